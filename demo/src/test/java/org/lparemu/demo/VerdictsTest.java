package org.lparemu.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The matrix's few words per cell, from the verdicts the scenarios produce. */
class VerdictsTest {

    @Test
    void theSeedRaceCellsReadAsTheirOutcome() {
        assertEquals("refused -9006 x5", Verdicts.brief("migration cancelled; suspend-me -9006 x5; open ok; "
                + "window never closed before suspend; no leak"));
        assertEquals("migrated, open EBUSY", Verdicts.brief("migrated; suspend-me 0; open EBUSY; "
                + "half-open window deallocated; no leak"));
        assertEquals("migrated", Verdicts.brief("migrated; suspend-me 0; open ok; window closed for migration and "
                + "reopened; no leak"));
        assertEquals("migrated, stale: 2 props", Verdicts.brief("migrated; PRRN continuation rejected; stale: "
                + "/cpus/PowerPC,POWER10@0 ibm,associativity, /ibm,dynamic-reconfiguration-memory ibm,dynamic-memory"));
        assertEquals("migrated, stale: 1 prop", Verdicts.brief("migrated; PRRN ignored; stale: "
                + "/ibm,dynamic-reconfiguration-memory ibm,dynamic-memory"));
        assertEquals("migrated", Verdicts.brief("migrated; PRRN applied; trees agree"));
    }

    @Test
    void theFaultCellsKeepTheirDistinguishingFact() {
        assertEquals("open EIO", Verdicts.brief("open EIO; modify H_HARDWARE; allocated window deallocated by the "
                + "opener; credits used 0; no leak"));
        assertEquals("migrated, open failed", Verdicts.brief("open failed: connection closed; parked modify failed; "
                + "orphan window MOD_IN_PROCESS, 0 connections; raw deallocate H_SUCCESS; fresh guest migrated; "
                + "suspend-me 0; no leak"));
        assertEquals("open ok, no leak", Verdicts.brief("open ok; paste ok; close 0; H_ALLOCATE_VAS_WINDOW 3 busy then "
                + "H_SUCCESS; no leak"));
        assertEquals("migrated, 2 violation(s)", Verdicts.brief("migrated; close rc 0 with no hcall; 2 violation(s)"));
        assertEquals("cancelled", Verdicts.brief("migration cancelled; no suspend-me; open ok"));
    }

    @Test
    void anyVerdictGivesSomething() {
        assertEquals("migrated, cpu map stale: 4", Verdicts.brief("migrated; 0 core(s) re-added; cpu-node-stale: cpu 0, "
                + "1, 2, 3"));
        assertEquals("failed, boot map kept, tree stale", Verdicts.brief("migration failed; no topology updates; PRRN "
                + "ignored; 0 core(s) re-added; boot-time map kept: 2 CPU(s) off the tree's node; device tree stale"));
        assertEquals("migrated", Verdicts.brief("migrated; 2 core(s) re-added; CPU map follows the tree"));
        assertEquals("no verdict", Verdicts.brief(""));
        assertTrue(Verdicts.brief("something else entirely").startsWith("something"));
    }
}
