package org.lparemu.server.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RateLimitedLogTest {

    @Test
    void writesABurstPerWindowThenCountsAndReportsWhatItLeftOut() {
        Logger logger = (Logger) LoggerFactory.getLogger("rate-limited-log-test");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        AtomicLong now = new AtomicLong();
        RateLimitedLog log = new RateLimitedLog(logger, now::get);

        for (int i = 0; i < RateLimitedLog.BURST + 30; i++) {
            log.info("connection {} opened", i);
        }
        assertEquals(RateLimitedLog.BURST, lines.list.size(), "only the burst is written");
        assertEquals(30, log.suppressed());

        now.addAndGet(RateLimitedLog.WINDOW_NANOS - 1);
        log.info("still the first window");
        assertEquals(RateLimitedLog.BURST, lines.list.size());
        assertEquals(31, log.suppressed());

        now.addAndGet(1);
        log.info("connection {} opened", "late");
        List<String> tail = lines.list.subList(RateLimitedLog.BURST, lines.list.size()).stream()
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertEquals(2, tail.size(), tail.toString());
        assertTrue(tail.get(0).startsWith("(31 connection log line(s) left out"), tail.get(0));
        assertEquals("connection late opened", tail.get(1));
        assertEquals(0, log.suppressed());
    }
}
