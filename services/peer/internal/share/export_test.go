package share

import "github.com/netlab/netlab/services/peer/internal/content"

// HashCount reports how many files Scan has hashed, so tests can tell a
// cache hit from a rehash.
func HashCount(s *Share) int64 { return s.hashed.Load() }

// SavedHave reads the saved .have record of a download.
func SavedHave(s *Share, id content.ID, pieces int) (content.Bitfield, error) {
	return s.readHave(id, pieces)
}
