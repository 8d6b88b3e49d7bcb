// Package memory reads a process's resident-set figures from Linux /proc:
// PeakRSS (VmHWM, the high-water mark), RSS (VmRSS) and ResetPeak, which
// writes "5" to /proc/<pid>/clear_refs so the high-water mark restarts from
// the current RSS (Linux >= 4.0; the caller must own the process). The runner
// resets a plugin's peak before each phase and reads it after, so each
// phase's figure is that component's own. SelfPeak reports this process's
// peak via getrusage (for systems without /proc), and GoHeap the Go runtime's view
// via runtime/metrics. All sizes are bytes.
package memory
