package proc

import (
	"fmt"
	"math/bits"
	"runtime"
	"syscall"
	"unsafe"
)

// cpuMask is a Linux cpu_set_t for up to 1024 CPUs.
type cpuMask [16]uint64

// AllowedCPUs lists the CPUs this process may run on.
func AllowedCPUs() ([]int, error) {
	var m cpuMask
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m))); e != 0 {
		return nil, fmt.Errorf("sched_getaffinity: %w", e)
	}
	var cpus []int
	for i, w := range m {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			cpus = append(cpus, i*64+b)
			w &^= 1 << b
		}
	}
	return cpus, nil
}

// OnCPUs runs f on an OS thread bound to cpus. A process f starts (fork
// happens on the calling thread) inherits them, and so do all its threads.
func OnCPUs(cpus []int, f func()) error {
	var m cpuMask
	for _, c := range cpus {
		m[c/64] |= 1 << (c % 64)
	}
	unpin, err := pinThread(&m)
	if err != nil {
		return err
	}
	defer unpin()
	f()
	return nil
}

// PinThread locks the calling goroutine to its OS thread and binds the
// thread to one CPU. The returned function restores the thread's CPUs and
// unlocks it. It must be called: a goroutine that exits locked ends its
// thread, and a child process started from that thread would get its
// Pdeathsig (see Group.Start).
func PinThread(cpu int) (unpin func(), err error) {
	var m cpuMask
	m[cpu/64] = 1 << (cpu % 64)
	return pinThread(&m)
}

func pinThread(m *cpuMask) (unpin func(), err error) {
	runtime.LockOSThread()
	var old cpuMask
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(old), uintptr(unsafe.Pointer(&old))); e != 0 {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("sched_getaffinity: %w", e)
	}
	if err := setAffinity(m); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	return func() {
		if setAffinity(&old) == nil {
			runtime.UnlockOSThread()
		}
		// else: stay locked; the thread ends with the goroutine rather
		// than run other goroutines on one CPU.
	}, nil
}

func setAffinity(m *cpuMask) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m))); e != 0 {
		return fmt.Errorf("sched_setaffinity: %w", e)
	}
	return nil
}
