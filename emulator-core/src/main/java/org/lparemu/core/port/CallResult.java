package org.lparemu.core.port;

/**
 * What the platform answers to one guest call: an hcall's {@link HcallResult}, an RTAS call's {@link RtasResult},
 * or a {@link CallRefusal} when the call is one a real processor could not have made (its vCPU was busy in
 * another call or stopped, or another RTAS call was in flight). A refusal did nothing.
 */
public sealed interface CallResult permits HcallResult, RtasResult, CallRefusal {

    /**
     * This answer as an hcall's.
     *
     * @throws CallRefusedException when the call was refused
     * @throws PortException        when it is an RTAS answer (a transport bug)
     */
    default HcallResult asHcall() {
        if (this instanceof HcallResult h) {
            return h;
        }
        throw unexpected("an hcall");
    }

    /**
     * This answer as an RTAS call's.
     *
     * @throws CallRefusedException when the call was refused
     * @throws PortException        when it is an hcall answer (a transport bug)
     */
    default RtasResult asRtas() {
        if (this instanceof RtasResult r) {
            return r;
        }
        throw unexpected("an RTAS call");
    }

    private PortException unexpected(String what) {
        if (this instanceof CallRefusal c) {
            return new CallRefusedException(c);
        }
        return new PortException("the answer to " + what + " was " + this);
    }
}
