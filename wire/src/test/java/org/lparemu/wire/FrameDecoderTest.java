package org.lparemu.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HcallRequest;
import org.lparemu.proto.v1.Hello;

/** Codec tier: the bounded varint framer and protobuf codec with EmbeddedChannel, split at every byte. */
class FrameDecoderTest {

    private static byte[] delimited(GuestFrame... frames) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (GuestFrame f : frames) {
            f.writeDelimitedTo(out);
        }
        return out.toByteArray();
    }

    private static GuestFrame hcall(long id, int nargs) {
        HcallRequest.Builder b = HcallRequest.newBuilder().setCallId(id).setVcpu(3).setOpcode(0x38C).setTask("task-" + id);
        for (int i = 0; i < nargs; i++) {
            b.addArgs(0x5C00000000000000L + i);
        }
        return GuestFrame.newBuilder().setHcall(b).build();
    }

    private static EmbeddedChannel decoderChannel(int max) {
        return new EmbeddedChannel(new BoundedVarint32FrameDecoder(max),
                new ProtobufDecoder(GuestFrame.getDefaultInstance()));
    }

    @Test
    void framesSplitAtEveryByteBoundaryDecodeIdentically() throws IOException {
        // A frame with a 2-byte length prefix (body > 127 bytes) next to small ones.
        GuestFrame big = GuestFrame.newBuilder().setHello(Hello.newBuilder().setPartition("lpar1")
                .setProtocolVersion(1).setClientName("x".repeat(300))).build();
        GuestFrame[] frames = {hcall(1, 5), big, hcall(2, 9), hcall(3, 0)};
        byte[] wire = delimited(frames);
        for (int split = 0; split <= wire.length; split++) {
            EmbeddedChannel ch = decoderChannel(1 << 20);
            ch.writeInbound(Unpooled.wrappedBuffer(wire, 0, split));
            ch.writeInbound(Unpooled.wrappedBuffer(wire, split, wire.length - split));
            List<GuestFrame> got = new ArrayList<>();
            for (Object o; (o = ch.readInbound()) != null; ) {
                got.add((GuestFrame) o);
            }
            assertEquals(List.of(frames), got, "split at byte " + split);
            assertFalse(ch.finish());
        }
    }

    @Test
    void byteByByteDeliveryDecodesEveryFrame() throws IOException {
        GuestFrame[] frames = new GuestFrame[50];
        for (int i = 0; i < frames.length; i++) {
            frames[i] = hcall(i + 1, i % 10);
        }
        byte[] wire = delimited(frames);
        EmbeddedChannel ch = decoderChannel(1 << 20);
        for (byte b : wire) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        for (GuestFrame f : frames) {
            assertEquals(f, ch.readInbound());
        }
        assertNull(ch.readInbound());
    }

    @Test
    void lengthPrefixAboveTheMaximumFailsBeforeTheBodyArrives() {
        EmbeddedChannel ch = decoderChannel(1024);
        // varint 1025 = 0x81 0x08; no body bytes follow: the decoder must not wait for 1 KiB first.
        DecoderException e = assertThrows(DecoderException.class,
                () -> ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {(byte) 0x81, 0x08})));
        assertTrue(e instanceof TooLongFrameException, e.toString());
        assertTrue(e.getMessage().contains("1025"), e.getMessage());
    }

    @Test
    void hugeLengthPrefixIsRejected() {
        EmbeddedChannel ch = decoderChannel(1 << 20);
        // 0x7FFFFFFF as a varint: a 2 GiB frame announced.
        DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(
                Unpooled.wrappedBuffer(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07})));
        assertTrue(e instanceof TooLongFrameException, e.toString());
    }

    @Test
    void sixByteVarintIsCorrupt() {
        EmbeddedChannel ch = decoderChannel(1 << 20);
        byte[] bad = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01};
        DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(bad)));
        assertTrue(e instanceof CorruptedFrameException, e.toString());
    }

    @Test
    void garbageBodyIsADecoderErrorNotAFrame() {
        EmbeddedChannel ch = decoderChannel(1 << 20);
        // length 3, body 0xFF 0xFF 0xFF: not a valid protobuf message.
        assertThrows(DecoderException.class,
                () -> ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {3, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF})));
        assertNull(ch.readInbound());
    }

    @Test
    void encoderWritesTheStandardDelimitedFormat() throws IOException {
        EmbeddedChannel ch = new EmbeddedChannel(new ProtobufVarint32LengthFieldPrepender(), new ProtobufEncoder());
        GuestFrame f = hcall(42, 3);
        ch.writeOutbound(f);
        ByteBuf out = Unpooled.buffer();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            out.writeBytes((ByteBuf) o);
            ((ByteBuf) o).release();
        }
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        assertEquals(f, GuestFrame.parseDelimitedFrom(new ByteArrayInputStream(bytes)));
        assertEquals(delimited(f).length, bytes.length);
    }
}
