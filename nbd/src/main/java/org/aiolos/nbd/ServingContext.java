package org.aiolos.nbd;

/**
 * One context serving an {@link NbdServer}'s connections, as {@link NbdServer#servingContexts()}
 * reports it.
 *
 * @param context the context's name (an IOThread's name)
 * @param connections connections placed there and still open (negotiating or in transmission)
 * @param accepted connections placed there since it began serving
 * @since 0.3.0
 */
public record ServingContext(String context, int connections, long accepted) {
}
