package org.lparemu.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import java.util.List;
import org.lparemu.proto.v1.GuestFrame;

/**
 * The guest port's frame decoder (after the length-prefix splitter): an hcall frame becomes an {@link HcallCall}
 * read by {@link HcallFrames.Reader}; every other frame, and any hcall frame that reader does not take, a
 * {@link GuestFrame} parsed by protobuf exactly as Netty's {@code ProtobufDecoder} parses it (a frame that does not
 * parse fails the same way). One instance per channel.
 */
public final class GuestFrameDecoder extends MessageToMessageDecoder<ByteBuf> {
    /** Frames up to this size are copied into a reused array; hcall frames are a few dozen bytes. */
    private static final int SCRATCH_BYTES = 512;

    private final HcallFrames.Reader reader = new HcallFrames.Reader();
    private final byte[] scratch = new byte[SCRATCH_BYTES];

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf msg, List<Object> out) throws Exception {
        int len = msg.readableBytes();
        byte[] array;
        int offset;
        if (msg.hasArray()) {
            array = msg.array();
            offset = msg.arrayOffset() + msg.readerIndex();
        } else if (len <= SCRATCH_BYTES) {
            msg.getBytes(msg.readerIndex(), scratch, 0, len);
            array = scratch;
            offset = 0;
        } else {
            array = ByteBufUtil.getBytes(msg, msg.readerIndex(), len, false);
            offset = 0;
        }
        HcallCall call = reader.decode(array, offset, len);
        out.add(call != null ? call : GuestFrame.parser().parseFrom(array, offset, len));
    }
}
