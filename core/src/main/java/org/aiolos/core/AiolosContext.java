package org.aiolos.core;

import org.aiolos.api.AioContext;

/**
 * The {@link AioContext} that {@link Aiolos} creates. Everything a user calls, the
 * operator-facing extras included (backend choice and status, statistics, poll times), is
 * on {@link AioContext} itself; this type remains so that code written against it keeps
 * compiling.
 */
public interface AiolosContext extends AioContext {
}
