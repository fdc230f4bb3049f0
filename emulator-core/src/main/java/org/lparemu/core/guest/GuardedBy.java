package org.lparemu.core.guest;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The lock that must be held to read or write the annotated field, or to call the annotated method. The value
 * names the lock field ({@code "vasPseriesMutex"}), or several joined by {@code "+"} when writes need all of
 * them and reads need any one. Documentation only: nothing checks it at run time.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.FIELD, ElementType.METHOD})
public @interface GuardedBy {
    String value();
}
