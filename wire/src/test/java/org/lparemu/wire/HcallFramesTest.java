package org.lparemu.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.port.HcallResult;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HcallRequest;
import org.lparemu.proto.v1.Hello;

/** The hot frame pair read and written by hand must mean exactly what protobuf reads and writes. */
@Timeout(10)
class HcallFramesTest {

    private static void assertSameCall(HcallRequest want, HcallCall got) {
        HcallCall w = HcallCall.of(want);
        assertEquals(w.callId(), got.callId());
        assertEquals(w.vcpu(), got.vcpu());
        assertEquals(w.opcode(), got.opcode());
        assertArrayEquals(w.args(), got.args());
        assertArrayEquals(w.buffer(), got.buffer());
        assertEquals(w.task(), got.task());
        assertEquals(w.interruptsDisabled(), got.interruptsDisabled());
    }

    @Test
    void decodesWhatProtobufEncodesForRandomRequests() {
        SplittableRandom rnd = new SplittableRandom(13);
        HcallFrames.Reader reader = new HcallFrames.Reader();
        for (int i = 0; i < 5000; i++) {
            HcallRequest.Builder b = HcallRequest.newBuilder();
            if (rnd.nextBoolean()) {
                b.setCallId(rnd.nextLong());
            }
            b.setVcpu(rnd.nextInt(3) == 0 ? rnd.nextInt() : rnd.nextInt(8));
            b.setOpcode(rnd.nextBoolean() ? rnd.nextLong(0x500) : rnd.nextLong());
            int n = rnd.nextInt(11);
            for (int a = 0; a < n; a++) {
                b.addArgs(rnd.nextBoolean() ? rnd.nextLong(200) : rnd.nextLong());
            }
            if (rnd.nextInt(4) == 0) {
                byte[] buf = new byte[rnd.nextInt(100)];
                rnd.nextBytes(buf);
                b.setBuffer(ByteString.copyFrom(buf));
            }
            b.setTask(rnd.nextInt(5) == 0 ? "" : "task-" + rnd.nextInt(3));
            b.setInterruptsDisabled(rnd.nextBoolean());
            HcallRequest req = b.build();
            byte[] bytes = GuestFrame.newBuilder().setHcall(req).build().toByteArray();
            HcallCall got = reader.decode(bytes, 0, bytes.length);
            assertSameCall(req, got);
        }
    }

    @Test
    void readsUnpackedArgsAndRepeatedScalarsAsProtobufDoes() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(body);
        o.writeUInt64(1, 7);
        o.writeUInt64(4, 11); // unpacked
        o.writeUInt64(4, 12);
        o.writeUInt64(3, 0x1C0);
        o.writeUInt64(1, 9); // last value wins
        o.writeString(6, "t");
        o.flush();
        byte[] bytes = frame(body.toByteArray());
        HcallCall got = new HcallFrames.Reader().decode(bytes, 0, bytes.length);
        assertSameCall(GuestFrame.parseFrom(bytes).getHcall(), got);
        assertEquals(9, got.callId());
        assertArrayEquals(new long[] {11, 12}, got.args());
    }

    @Test
    void leavesEverythingElseToProtobuf() throws IOException {
        HcallFrames.Reader reader = new HcallFrames.Reader();
        byte[] hello = GuestFrame.newBuilder().setHello(Hello.newBuilder().setPartition("p")).build().toByteArray();
        assertNull(reader.decode(hello, 0, hello.length));
        byte[] utf8 = GuestFrame.newBuilder().setHcall(HcallRequest.newBuilder().setTask("tâche")).build().toByteArray();
        assertNull(reader.decode(utf8, 0, utf8.length));
        HcallRequest.Builder many = HcallRequest.newBuilder();
        for (int i = 0; i < 17; i++) {
            many.addArgs(i);
        }
        byte[] tooMany = GuestFrame.newBuilder().setHcall(many).build().toByteArray();
        assertNull(reader.decode(tooMany, 0, tooMany.length));
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(body);
        o.writeUInt64(99, 1); // unknown field
        o.flush();
        byte[] unknown = frame(body.toByteArray());
        assertNull(reader.decode(unknown, 0, unknown.length));
        byte[] good = GuestFrame.newBuilder().setHcall(HcallRequest.newBuilder().setCallId(300).addArgs(1)).build()
                .toByteArray();
        for (int cut = 0; cut < good.length; cut++) {
            assertNull(reader.decode(good, 0, cut), "cut at " + cut);
        }
    }

    @Test
    void theDecoderFallsBackToProtobufAndFailsAsItDoes() {
        EmbeddedChannel ch = new EmbeddedChannel(new GuestFrameDecoder());
        byte[] hcall = GuestFrame.newBuilder().setHcall(HcallRequest.newBuilder().setCallId(5).setTask("a")).build()
                .toByteArray();
        ch.writeInbound(Unpooled.wrappedBuffer(hcall));
        assertEquals(5, assertInstanceOf(HcallCall.class, ch.readInbound()).callId());
        byte[] hello = GuestFrame.newBuilder().setHello(Hello.newBuilder().setPartition("p")).build().toByteArray();
        ch.writeInbound(Unpooled.directBuffer().writeBytes(hello));
        assertEquals("p", assertInstanceOf(GuestFrame.class, ch.readInbound()).getHello().getPartition());
        assertThrows(DecoderException.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x12, 0x05, 1})));
        ch.finishAndReleaseAll();
    }

    @Test
    void sharesTheTaskStringOfConsecutiveFrames() {
        HcallFrames.Reader reader = new HcallFrames.Reader();
        byte[] a = GuestFrame.newBuilder().setHcall(HcallRequest.newBuilder().setCallId(1).setTask("bench")).build()
                .toByteArray();
        byte[] b = GuestFrame.newBuilder().setHcall(HcallRequest.newBuilder().setCallId(2).setTask("bench")).build()
                .toByteArray();
        assertSame(reader.decode(a, 0, a.length).task(), reader.decode(b, 0, b.length).task());
    }

    @Test
    void encodesTheBytesProtobufWrites() {
        SplittableRandom rnd = new SplittableRandom(6);
        for (int i = 0; i < 5000; i++) {
            long status = switch (rnd.nextInt(4)) {
                case 0 -> 0;
                case 1 -> -rnd.nextInt(70);
                case 2 -> rnd.nextLong();
                default -> 9900 + rnd.nextInt(6);
            };
            long[] rets = new long[rnd.nextInt(10)];
            for (int r = 0; r < rets.length; r++) {
                rets[r] = rnd.nextBoolean() ? rnd.nextLong(300) : rnd.nextLong();
            }
            byte[] buf = new byte[rnd.nextInt(3) == 0 ? rnd.nextInt(200) : 0];
            rnd.nextBytes(buf);
            HcallResult r = new HcallResult(status, rets, buf);
            long callId = rnd.nextInt(5) == 0 ? 0 : rnd.nextLong();
            assertArrayEquals(ProtoMapping.reply(callId, r).toByteArray(), HcallFrames.encodeReply(callId, r),
                    "call " + callId + " " + r);
        }
    }

    private static byte[] frame(byte[] hcallBody) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(out);
        o.writeByteArray(2, hcallBody);
        o.flush();
        return out.toByteArray();
    }
}
