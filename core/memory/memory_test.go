package memory

import (
	"os"
	"runtime"
	"testing"
)

func TestStatusFixtures(t *testing.T) {
	old := procRoot
	procRoot = "testdata/proc"
	t.Cleanup(func() { procRoot = old })
	tests := []struct {
		name    string
		read    func(int) (int64, error)
		pid     int
		want    int64
		wantErr bool
	}{
		{"peak", PeakRSS, 42, 123456 * 1024, false},
		{"rss", RSS, 42, 100000 * 1024, false},
		{"zombie has no VmHWM", PeakRSS, 43, 0, true},
		{"missing pid", RSS, 44, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.read(tc.pid)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// TestResetPeakSelf allocates and touches 64 MiB, frees it, and checks that
// VmHWM saw the allocation and that ResetPeak brought it back down.
func TestResetPeakSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux /proc")
	}
	pid := os.Getpid()
	if err := ResetPeak(pid); err != nil {
		t.Fatal(err)
	}
	before, err := PeakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	peak, err := PeakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if peak-before < 60<<20 {
		t.Fatalf("VmHWM grew by %d bytes after touching 64 MiB", peak-before)
	}
	runtime.KeepAlive(buf)
	buf = nil
	runtime.GC()
	debugFreeOSMemory()
	if err := ResetPeak(pid); err != nil {
		t.Fatal(err)
	}
	after, err := PeakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if after >= peak {
		t.Fatalf("ResetPeak left VmHWM at %d (peak was %d)", after, peak)
	}
	self, err := SelfPeak()
	if err != nil || self < after-(1<<20) {
		t.Fatalf("SelfPeak = %d, %v; want >= ~%d", self, err, after)
	}
	if GoHeap() <= 0 {
		t.Fatal("GoHeap not positive")
	}
}

func TestCPUSeconds(t *testing.T) {
	old := procRoot
	procRoot = "testdata/proc"
	defer func() { procRoot = old }()
	// utime 250 + stime 75 ticks, with a command name holding ") ".
	if s, err := CPUSeconds(42); err != nil || s != 3.25 {
		t.Fatalf("CPUSeconds = %v, %v; want 3.25", s, err)
	}
	if _, err := CPUSeconds(43); err == nil {
		t.Fatal("no stat file: no error")
	}
	procRoot = old
	if s, err := CPUSeconds(os.Getpid()); err != nil || s < 0 {
		t.Fatalf("own process: %v, %v", s, err)
	}
}
