package org.lparemu.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.Arrays;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.ControlException;
import org.lparemu.core.port.CallResult;
import org.lparemu.proto.v1.DeviceTree;
import org.lparemu.proto.v1.DlparCpu;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.GuestReport;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.PartitionSpec;
import org.lparemu.proto.v1.PlatformEvent;
import org.lparemu.proto.v1.Prrn;
import org.lparemu.proto.v1.Trigger;

/**
 * Coverage-guided fuzzing of the protobuf-to-core mapping (ProtoMapping, ControlMapping, FaultMapping): byte 0 of an
 * input picks the message (a fault rule, a trigger, a PRRN change list, a DLPAR action, a reply frame, a partition
 * spec, a guest report, an event, a device tree, an error code), the rest is parsed as that message (bytes protobuf
 * itself rejects are not the mapping's concern), and the message is mapped to the core. Invariants after every
 * input: the mapping returns a value or throws one of the two typed refusals the daemon answers (ControlException,
 * IllegalArgumentException: BAD_REQUEST), nothing else; a ControlException from a fault rule says BAD_REQUEST.
 * Without JAZZER_FUZZ=1 (mvn verify) this runs the stored inputs in MappingFuzzTestInputs/ only.
 */
class MappingFuzzTest {
    private static final int KINDS = 10;

    @FuzzTest(maxDuration = "10m", maxExecutions = 1_000_000)
    @Timeout(900)
    void anyMessageMapsOrFailsTyped(byte[] input) {
        if (input.length == 0) {
            return;
        }
        byte[] body = Arrays.copyOfRange(input, 1, input.length);
        try {
            Object mapped = map((input[0] & 0xff) % KINDS, body);
            assertNotNull(mapped);
        } catch (InvalidProtocolBufferException notAMessage) {
            // Protobuf's own refusal, before any mapping runs (the frame decoder's target covers it).
        } catch (ControlException e) {
            assertEquals(ControlError.BAD_REQUEST, e.code(), e.getMessage());
        } catch (IllegalArgumentException expected) {
            // The other typed refusal: the control port answers BAD_REQUEST, the guest port a protocol error.
        }
    }

    private static Object map(int kind, byte[] body) throws InvalidProtocolBufferException {
        return switch (kind) {
            case 0 -> FaultMapping.fromProto(FaultRule.parseFrom(body));
            case 1 -> FaultMapping.trigger(Trigger.parseFrom(body));
            case 2 -> ControlMapping.changes(Prrn.parseFrom(body).getChangesList());
            case 3 -> ControlMapping.add(DlparCpu.parseFrom(body).getAction());
            case 4 -> {
                HostFrame f = HostFrame.parseFrom(body);
                CallResult r = ProtoMapping.fromReply(f);
                assertEquals(ProtoMapping.replyCallId(f), ProtoMapping.replyCallId(ProtoMapping.reply(
                        ProtoMapping.replyCallId(f), r)), "a reply's call id survives the round trip");
                yield r;
            }
            case 5 -> ProtoMapping.fromProto(PartitionSpec.parseFrom(body));
            case 6 -> ProtoMapping.fromProto(GuestReport.parseFrom(body));
            case 7 -> {
                PlatformEvent e = PlatformEvent.parseFrom(body);
                Object core = ProtoMapping.fromProto(e);
                yield core == null ? e.getKindCase() : core;
            }
            case 8 -> ProtoMapping.fromProto(DeviceTree.parseFrom(body));
            default -> {
                ErrorCode c = ErrorCode.forNumber(body.length == 0 ? 0 : body[0]);
                yield ProtoMapping.fromProto(c == null ? ErrorCode.UNRECOGNIZED : c);
            }
        };
    }
}
