package shaper

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// QueueState is one NFQUEUE bound in this network namespace, as
// /proc/net/netfilter/nfnetlink_queue lists it.
type QueueState struct {
	Num         uint16 `json:"num"`
	PortID      uint32 `json:"port_id"`      // the listening socket
	Waiting     uint64 `json:"waiting"`      // packets queued, no verdict yet
	Dropped     uint64 `json:"dropped"`      // by the kernel: queue full
	UserDropped uint64 `json:"user_dropped"` // the socket could not take them
	Netlab      bool   `json:"netlab"`       // the shaper's queue number
}

// queueFile lists the bound queues of the reading thread's network
// namespace (/proc/net would be the main thread's).
const queueFile = "/proc/thread-self/net/netfilter/nfnetlink_queue"

// ReadQueues lists the bound NFQUEUEs (none when the file is absent:
// nfnetlink_queue not loaded yet).
func ReadQueues() ([]QueueState, error) {
	f, err := os.Open(queueFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queues: %w", err)
	}
	defer f.Close()
	var out []QueueState
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// queue_number peer_portid queue_total copy_mode copy_range queue_dropped user_dropped id_sequence 1
		fields := strings.Fields(sc.Text())
		if len(fields) < 7 {
			continue
		}
		n := make([]uint64, 7)
		for i := range n {
			n[i], _ = strconv.ParseUint(fields[i], 10, 64)
		}
		out = append(out, QueueState{Num: uint16(n[0]), PortID: uint32(n[1]), Waiting: n[2], Dropped: n[5], UserDropped: n[6], Netlab: n[0] == QueueNum})
	}
	return out, sc.Err()
}
