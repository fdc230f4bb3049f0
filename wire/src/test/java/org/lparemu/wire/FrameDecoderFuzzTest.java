package org.lparemu.wire;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import org.junit.jupiter.api.Timeout;
import org.lparemu.proto.v1.GuestFrame;

/**
 * Coverage-guided fuzzing of the guest port's inbound pipeline: the bounded varint framer and the protobuf decoder,
 * fed any bytes in any chunks. Invariants after every input: a decoded frame or a DecoderException (typed: the
 * daemon answers it and closes), nothing else escaping, and no frame buffered beyond the cap. Without JAZZER_FUZZ=1
 * (mvn verify) this runs the stored inputs in FrameDecoderFuzzTestInputs/ only.
 */
class FrameDecoderFuzzTest {
    private static final int MAX = 4096;

    @FuzzTest(maxDuration = "60s")
    @Timeout(120)
    void anyBytesInAnyChunksDecodeOrFailTyped(byte[] input) {
        EmbeddedChannel ch = new EmbeddedChannel(new BoundedVarint32FrameDecoder(MAX),
                new ProtobufDecoder(GuestFrame.getDefaultInstance()));
        int chunk = input.length == 0 ? 1 : 1 + (input[0] & 0x0f);
        try {
            for (int off = 0; off < input.length; off += chunk) {
                ch.writeInbound(Unpooled.wrappedBuffer(input, off, Math.min(chunk, input.length - off)));
            }
            Object frame;
            while ((frame = ch.readInbound()) != null) {
                assertTrue(frame instanceof GuestFrame, frame.getClass().toString());
                assertTrue(((GuestFrame) frame).getSerializedSize() <= MAX, "a frame over the cap was let through");
            }
        } catch (DecoderException expected) {
            // The typed failure the daemon turns into an error reply and a close.
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
