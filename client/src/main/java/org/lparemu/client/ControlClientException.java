package org.lparemu.client;

import org.lparemu.proto.v1.ErrorCode;

/** The daemon answered a control request with a typed error. */
public class ControlClientException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;

    public ControlClientException(ErrorCode code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
