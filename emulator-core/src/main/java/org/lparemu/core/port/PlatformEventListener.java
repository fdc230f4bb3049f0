package org.lparemu.core.port;

/**
 * Receives platform events on the guest side. Called on a transport thread: implementations hand the event
 * to their own workers and return at once.
 */
@FunctionalInterface
public interface PlatformEventListener {
    void onEvent(PlatformEvent event);
}
