package memory

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
)

// ErrUnsupported is returned where /proc is missing (non-Linux systems).
var ErrUnsupported = errors.New("memory: /proc not available")

// procRoot is a variable so tests can point it at fixtures.
var procRoot = "/proc"

// PeakRSS returns VmHWM of pid in bytes.
func PeakRSS(pid int) (int64, error) { return statusField(pid, "VmHWM") }

// RSS returns VmRSS of pid in bytes.
func RSS(pid int) (int64, error) { return statusField(pid, "VmRSS") }

// ResetPeak restarts pid's VmHWM from its current RSS.
func ResetPeak(pid int) error {
	p := fmt.Sprintf("%s/%d/clear_refs", procRoot, pid)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return wrapProc(p, err)
	}
	if _, err := f.WriteString("5"); err != nil {
		f.Close()
		return fmt.Errorf("memory: write %s: %w", p, err)
	}
	return f.Close()
}

// SelfPeak returns this process's peak RSS (getrusage ru_maxrss). On Linux
// it follows the same high-water mark as VmHWM, so ResetPeak lowers it too;
// it exists for systems without /proc.
func SelfPeak() (int64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("memory: getrusage: %w", err)
	}
	return ru.Maxrss * 1024, nil // Linux reports KiB
}

// GoHeap returns the bytes the Go runtime has mapped for this process
// (/memory/classes/total:bytes less released pages), a figure that excludes
// memory allocated outside Go (XLA, C libraries).
func GoHeap() int64 {
	s := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(s)
	var v [2]int64
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = int64(s[i].Value.Uint64())
		}
	}
	return v[0] - v[1]
}

func statusField(pid int, key string) (int64, error) {
	p := fmt.Sprintf("%s/%d/status", procRoot, pid)
	f, err := os.Open(p)
	if err != nil {
		return 0, wrapProc(p, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("memory: %s: malformed %s line %q", p, key, line)
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("memory: %s: %s: %w", p, key, err)
		}
		return n * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("memory: read %s: %w", p, err)
	}
	// Kernel threads and zombies have no Vm* lines.
	return 0, fmt.Errorf("memory: %s has no %s line (zombie or kernel thread?)", p, key)
}

func wrapProc(p string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		if _, statErr := os.Stat(procRoot); statErr != nil {
			return ErrUnsupported
		}
	}
	return fmt.Errorf("memory: %w", err)
}

// CPUSeconds is the user plus system CPU time the process has used so far
// (utime + stime of /proc/<pid>/stat, all its threads), in seconds. The
// runner reports it beside wall time because on a shared machine wall
// seconds measure the neighbours as much as the work.
func CPUSeconds(pid int) (float64, error) {
	p := filepath.Join(procRoot, strconv.Itoa(pid), "stat")
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, wrapProc(p, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("memory: %s: malformed stat", p)
	}
	f := strings.Fields(string(b[i+1:]))
	// After ')': state is field 3, so utime (14) and stime (15) are at 11, 12.
	if len(f) < 13 {
		return 0, fmt.Errorf("memory: %s: malformed stat (%d fields)", p, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("memory: %s: malformed utime/stime %q %q", p, f[11], f[12])
	}
	// USER_HZ is 100 on every Linux ABI Go supports.
	return float64(ut+st) / 100, nil
}
