package org.lparemu.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.util.List;

/**
 * Splits the standard protobuf delimited stream (varint32 length, then the message) into frames, with a
 * hard maximum frame size. Netty's own {@code ProtobufVarint32FrameDecoder} has no cap, so a hostile length
 * prefix could make it buffer up to 2 GiB; this one fails fast with {@link TooLongFrameException} as soon as
 * the prefix is read, before any body byte is buffered. A varint longer than 5 bytes or a negative length is
 * a {@link CorruptedFrameException}. Not sharable: one instance per channel.
 */
public final class BoundedVarint32FrameDecoder extends ByteToMessageDecoder {
    private final int maxFrameBytes;
    private boolean failed;

    public BoundedVarint32FrameDecoder(int maxFrameBytes) {
        if (maxFrameBytes < 1) {
            throw new IllegalArgumentException("maxFrameBytes " + maxFrameBytes);
        }
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        in.markReaderIndex();
        int start = in.readerIndex();
        int length = 0;
        int shift = 0;
        int i = 0;
        while (true) {
            if (!in.isReadable()) {
                in.resetReaderIndex();
                return;
            }
            byte b = in.readByte();
            length |= (b & 0x7F) << shift;
            i++;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
            if (i == 5) {
                failed = true;
                in.skipBytes(in.readableBytes());
                throw new CorruptedFrameException("length prefix longer than 5 bytes at offset " + start);
            }
        }
        if (length < 0) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw new CorruptedFrameException("negative frame length " + length);
        }
        if (length > maxFrameBytes) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw new TooLongFrameException("frame of " + length + " bytes exceeds the maximum of " + maxFrameBytes);
        }
        if (in.readableBytes() < length) {
            in.resetReaderIndex();
            return;
        }
        out.add(in.readRetainedSlice(length));
    }
}
