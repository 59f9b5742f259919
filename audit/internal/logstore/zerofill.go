package logstore

import (
	"fmt"
)

// Zero-filling ahead of the data, a measure for speed, not durability.
//
// An fdatasync after an append must also commit to the file system's
// journal the file's new size and the blocks just allocated to it; after
// a write over blocks already allocated and written, it has the data
// alone to write. So a goroutine of its own (the zeroer) keeps the space
// just after the active segment's data filled with zeros, made durable a
// chunk at a time, and the batches' fdatasyncs then write data alone:
// less CPU for each and a shorter wait. Durability does not depend on
// it: an fdatasync makes a batch durable, with whatever metadata reading
// it back needs, whether or not the space was filled first.
//
// A crash can leave zeros after the last commit; recovery has always
// taken zeros to the end of a segment as the end of its data and cut
// them (scanSegment, zeroTail), and Verify reads past them. A segment is
// cut back to its data when it is rolled and when the log closes.
//
// The zeroer writes only at or after the segment's zeroed mark, holding
// zmu. The writer writes below the mark without the lock; a write that
// reaches past it takes zmu and moves the mark to its end, so zeros
// never land on data.

const (
	// zeroChunk is how many bytes the zeroer fills at a time.
	zeroChunk = 2 << 20
	// zeroLowWater: the writer wakes the zeroer when less than this is
	// filled ahead of the data.
	zeroLowWater = 2 << 20
)

// zeros is the source of the zeroer's writes.
var zeros = make([]byte, zeroChunk)

// writeData writes data at off, below the zeroed mark without the lock
// and past it under zmu, moving the mark to the end of the data.
func (s *segment) writeData(b []byte, off int64) error {
	end := off + int64(len(b))
	if end <= s.zeroed.Load() {
		_, err := s.f.WriteAt(b, off)
		return err
	}
	s.zmu.Lock()
	defer s.zmu.Unlock()
	_, err := s.f.WriteAt(b, off)
	if end > s.zeroed.Load() {
		s.zeroed.Store(end)
	}
	return err
}

// zeroAhead wakes the zeroer when little space after the active
// segment's data is filled, unless the segment is already filled up to
// the size at which it rolls.
func (l *Store) zeroAhead() {
	s := l.seg
	z := s.zeroed.Load()
	if z-s.size >= zeroLowWater || z >= l.cfg.SegmentSize {
		return
	}
	select {
	case l.zwake <- s:
	default: // already awake, or about to be
	}
}

// zeroLoop is the zeroer goroutine.
func (l *Store) zeroLoop() {
	defer close(l.zdone)
	for s := range l.zwake {
		s.fill(l.cfg.SegmentSize)
	}
}

// stopZeroer ends the zeroer goroutine (writer goroutine).
func (l *Store) stopZeroer() {
	close(l.zwake)
	<-l.zdone
}

// fill fills the next chunk after the zeroed mark with zeros, up to
// limit, and makes it durable. It holds zmu while it writes the zeros,
// not while it syncs them: the mark moves only once they are durable, and
// a write of data past the mark in the meantime (under zmu, after the
// zeros) moves it first. It gives up filling the segment on an error: the
// writes of data then extend the file as they would without it, and meet
// any real problem themselves.
func (s *segment) fill(limit int64) {
	to, ok := s.fillZeros(limit)
	if !ok {
		return
	}
	err := syncData(s.f)
	s.zmu.Lock()
	defer s.zmu.Unlock()
	if err != nil {
		s.zstop = true
		return
	}
	if to > s.zeroed.Load() {
		s.zeroed.Store(to)
	}
}

// fillZeros writes the zeros of fill under zmu and returns where they
// end, or false when there is nothing to fill.
func (s *segment) fillZeros(limit int64) (int64, bool) {
	s.zmu.Lock()
	defer s.zmu.Unlock()
	if s.zstop {
		return 0, false
	}
	from := s.zeroed.Load()
	if size, err := fileSize(s.f); err != nil || size > from {
		// Never below the end of the file: the mark is at least there
		// already, but zeros must not land on anything written.
		if err != nil {
			s.zstop = true
			return 0, false
		}
		from = size
	}
	to := min(from+zeroChunk, limit)
	to -= to % 4096 // end on a page
	if to <= from {
		return 0, false
	}
	if _, err := s.f.WriteAt(zeros[:to-from], from); err != nil {
		s.zstop = true
		return 0, false
	}
	return to, true
}

// trim stops filling s and cuts the zeros after its data, durably: the
// segment is rolled or the log is closing.
func (s *segment) trim() error {
	s.zmu.Lock()
	s.zstop = true
	s.zmu.Unlock()
	size, err := fileSize(s.f)
	if err != nil {
		return fmt.Errorf("trimming %s: %w", s.name, err)
	}
	if size <= s.size {
		return nil
	}
	if err := s.f.Truncate(s.size); err != nil {
		return fmt.Errorf("trimming %s: %w", s.name, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", s.name, err)
	}
	return nil
}
