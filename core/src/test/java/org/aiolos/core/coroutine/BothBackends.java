package org.aiolos.core.coroutine;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs a test once per backend: the one suite both must pass. The method takes the
 * backend name and calls {@link CoTests#use(String)} first.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ParameterizedTest(name = "{0}")
@ValueSource(strings = {Backend.CONTINUATION, Backend.VIRTUAL_THREAD})
@interface BothBackends {
}
