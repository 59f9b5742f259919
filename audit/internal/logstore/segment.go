package logstore

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// On-disk layout of a segment file (segments/<first seq, 20 digits>.seg):
//
// A crash can leave a segment ending in zeros (space the file system
// allocated before the data reached it, or that the writer filled ahead
// of the data: zerofill.go): a zero frame header followed by nothing but
// zeros is the end of the data, and OpenLog cuts it.
//
//	header:  magic "SHCRAUD1" | first seq u64 | CRC-32C of the 16 bytes before, u32
//	frames:  length u32 | CRC-32C of payload u32 | payload (length bytes)
//
// All integers are big-endian. A payload starts with its kind:
//
//	'E' event record: the event as JSON, beginning {"seq":N,...; these
//	    bytes (without the kind) are the Merkle tree leaf.
//	'C' commit: first seq u64 | count u32 | batch length u32 | batch CRC u32
//
// Every group commit writes its event frames and then one commit frame
// whose batch length and CRC cover the event frames exactly; then one
// fsync. On recovery, only events followed by their intact commit count
// as written: that is what tells a torn tail (a batch cut short by a
// crash, never acknowledged) from damage to events already acknowledged
// (an intact later batch after a bad frame).
const (
	segMagic          = "SHCRAUD1"
	segHeaderSize     = 20
	frameHeaderSize   = 8
	kindEvent         = 'E'
	kindCommit        = 'C'
	commitPayloadSize = 1 + 8 + 4 + 4 + 4
	maxPayload        = 1 << 20
	segmentsDir       = "segments"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

func segmentName(first uint64) string { return fmt.Sprintf("%020d.seg", first) }

func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, ".seg")
	if !ok || len(digits) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil && n > 0
}

func segmentHeader(first uint64) []byte {
	b := make([]byte, 0, segHeaderSize)
	b = append(b, segMagic...)
	b = binary.BigEndian.AppendUint64(b, first)
	return binary.BigEndian.AppendUint32(b, crc(b))
}

func parseSegmentHeader(b []byte) (uint64, error) {
	if len(b) < segHeaderSize || string(b[:8]) != segMagic ||
		binary.BigEndian.Uint32(b[16:20]) != crc(b[:16]) {
		return 0, errors.New("bad segment header")
	}
	return binary.BigEndian.Uint64(b[8:16]), nil
}

// appendEventFrame appends an event frame whose record is the spliced
// JSON of body with seq and recorded in front. It returns the new buffer
// and the record's offset within it.
func appendEventFrame(dst []byte, seq uint64, recorded string, body []byte) ([]byte, int) {
	start, rec := len(dst), len(dst)+frameHeaderSize+1
	dst = append(beginEventFrame(dst, seq), recorded...)
	return endEventFrame(dst, start, body), rec
}

// appendEventFrameAt is appendEventFrame with recorded as
// RecordedString(t), formatted in place.
func appendEventFrameAt(dst []byte, seq uint64, t time.Time, body []byte) ([]byte, int) {
	start, rec := len(dst), len(dst)+frameHeaderSize+1
	dst = t.UTC().AppendFormat(beginEventFrame(dst, seq), time.RFC3339Nano)
	return endEventFrame(dst, start, body), rec
}

// beginEventFrame appends an event frame's header (to be filled by
// endEventFrame) and its record up to the recorded time.
func beginEventFrame(dst []byte, seq uint64) []byte {
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, kindEvent)
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	return append(dst, `,"recorded":"`...)
}

// endEventFrame appends the rest of the record, body's fields, and fills
// in the header of the frame that starts at start.
func endEventFrame(dst []byte, start int, body []byte) []byte {
	dst = append(dst, '"')
	if len(body) > 2 {
		dst = append(dst, ',')
		dst = append(dst, body[1:]...)
	} else {
		dst = append(dst, '}')
	}
	payload := dst[start+frameHeaderSize:]
	binary.BigEndian.PutUint32(dst[start:], uint32(len(payload)))
	binary.BigEndian.PutUint32(dst[start+4:], crc(payload))
	return dst
}

func appendCommitFrame(dst []byte, first uint64, count, batchLen, batchCRC uint32) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, kindCommit)
	dst = binary.BigEndian.AppendUint64(dst, first)
	dst = binary.BigEndian.AppendUint32(dst, count)
	dst = binary.BigEndian.AppendUint32(dst, batchLen)
	dst = binary.BigEndian.AppendUint32(dst, batchCRC)
	payload := dst[start+frameHeaderSize:]
	binary.BigEndian.PutUint32(dst[start:], uint32(len(payload)))
	binary.BigEndian.PutUint32(dst[start+4:], crc(payload))
	return dst
}

type commitInfo struct {
	first             uint64
	count, len, batch uint32
}

func parseCommit(payload []byte) (commitInfo, bool) {
	if len(payload) != commitPayloadSize || payload[0] != kindCommit {
		return commitInfo{}, false
	}
	return commitInfo{
		first: binary.BigEndian.Uint64(payload[1:]),
		count: binary.BigEndian.Uint32(payload[9:]),
		len:   binary.BigEndian.Uint32(payload[13:]),
		batch: binary.BigEndian.Uint32(payload[17:]),
	}, true
}

// RecordSeq reads the sequence number at the front of a record,
// {"seq":N,...
func RecordSeq(rec []byte) (uint64, bool) {
	const prefix = `{"seq":`
	if len(rec) < len(prefix)+2 || string(rec[:len(prefix)]) != prefix {
		return 0, false
	}
	var n uint64
	i := len(prefix)
	for ; i < len(rec) && '0' <= rec[i] && rec[i] <= '9' && i < len(prefix)+20; i++ {
		n = n*10 + uint64(rec[i]-'0')
	}
	if i == len(prefix) || i >= len(rec) || rec[i] != ',' || (rec[len(prefix)] == '0') {
		return 0, false
	}
	return n, true
}

// RecordedString formats a record's "recorded" time.
func RecordedString(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// scannedRecord is one committed event found by scanSegment.
type scannedRecord struct {
	seq  uint64
	off  int64  // offset of the frame in the segment
	data []byte // the record (leaf) bytes; valid only during the visit
}

// scanResult is what scanSegment found.
type scanResult struct {
	committedEnd int64  // offset just after the last intact commit
	nextSeq      uint64 // the seq after the last committed event
	problem      string // why scanning stopped before the end, or ""
	problemAt    int64
	uncommitted  int // event frames after the last commit
}

// scanSegment reads frames from start to size, checking every CRC, the
// sequence of seqs and every commit, and calls visit for each committed
// event in order. It stops at the first problem and reports it; the
// caller decides whether that is a torn tail or damage.
func scanSegment(f *os.File, start, size int64, nextSeq uint64, visit func(scannedRecord) error) (scanResult, error) {
	sc := &segmentScan{res: scanResult{committedEnd: start, nextSeq: nextSeq}, batchStart: start, visit: visit}
	if start >= size {
		return sc.res, nil
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f, start, size-start), readBufferSize(size-start))
	var hdr [frameHeaderSize]byte
	for off := start; off < size; {
		h := hdr[:min(frameHeaderSize, size-off)]
		if _, err := io.ReadFull(br, h); err != nil {
			return sc.res, err
		}
		if allZero(h) {
			// Zeros to the end of the file are not data.
			zero, err := restZero(br)
			if err != nil || zero {
				return sc.end(off), err
			}
			return sc.stop(off, "data after zero-filled space"), nil
		}
		if len(h) < frameHeaderSize {
			return sc.stop(off, "partial frame header"), nil
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		if n == 0 || n > maxPayload {
			return sc.stop(off, fmt.Sprintf("frame length %d out of range", n)), nil
		}
		if size-off-frameHeaderSize < n {
			return sc.stop(off, "frame runs past the end of the file"), nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return sc.res, err
		}
		if crc(payload) != binary.BigEndian.Uint32(hdr[4:]) {
			return sc.stop(off, "frame checksum mismatch"), nil
		}
		if why, err := sc.frame(off, hdr, payload); why != "" || err != nil {
			return sc.stop(off, why), err
		}
		off += frameHeaderSize + n
	}
	return sc.end(size), nil
}

// segmentScan is the state of scanSegment: the batch read since the last
// commit, and what it found.
type segmentScan struct {
	res        scanResult
	batch      []scannedRecord
	batchStart int64
	batchCRC   uint32
	visit      func(scannedRecord) error
}

// stop records the problem that ends the scan at off.
func (sc *segmentScan) stop(at int64, why string) scanResult {
	sc.res.problem, sc.res.problemAt, sc.res.uncommitted = why, at, len(sc.batch)
	return sc.res
}

// end is the result at the end of the data: a batch still open there
// lacks its commit.
func (sc *segmentScan) end(at int64) scanResult {
	if len(sc.batch) > 0 {
		return sc.stop(at, "batch without commit at the end of the file")
	}
	return sc.res
}

// frame takes one checked frame at off; it returns why the frame ends
// the scan, or "".
func (sc *segmentScan) frame(off int64, hdr [frameHeaderSize]byte, payload []byte) (string, error) {
	switch payload[0] {
	case kindEvent:
		rec := payload[1:]
		seq, ok := RecordSeq(rec)
		want := sc.res.nextSeq + uint64(len(sc.batch))
		if !ok || seq != want {
			return fmt.Sprintf("event out of sequence (want %d)", want), nil
		}
		sc.batchCRC = crc32.Update(sc.batchCRC, castagnoli, hdr[:])
		sc.batchCRC = crc32.Update(sc.batchCRC, castagnoli, payload)
		sc.batch = append(sc.batch, scannedRecord{seq: seq, off: off, data: rec})
		return "", nil
	case kindCommit:
		c, ok := parseCommit(payload)
		if !ok || len(sc.batch) == 0 || c.first != sc.batch[0].seq || int(c.count) != len(sc.batch) ||
			int64(c.len) != off-sc.batchStart || c.batch != sc.batchCRC {
			return "commit does not match its batch", nil
		}
		for _, p := range sc.batch {
			if err := sc.visit(p); err != nil {
				return "", err
			}
		}
		sc.res.nextSeq += uint64(len(sc.batch))
		sc.batch = sc.batch[:0]
		sc.batchCRC = 0
		sc.batchStart = off + frameHeaderSize + int64(len(payload))
		sc.res.committedEnd = sc.batchStart
		return "", nil
	}
	return fmt.Sprintf("unknown frame kind %#x", payload[0]), nil
}

// readBufferSize sizes a read buffer for n bytes: up to 1 MiB.
func readBufferSize(n int64) int { return int(max(4096, min(n, 1<<20))) }

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// restZero reads r to its end and reports whether it held only zeros.
func restZero(r io.Reader) (bool, error) {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if !allZero(buf[:n]) {
			return false, nil
		}
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// intactBatchAfter reports whether an intact batch (commit frame whose
// batch bytes match its CRC) with seqs at or after nextSeq lies wholly in
// [from, size). A crash can only tear the last batch, which was never
// acknowledged; an intact batch after a bad frame means the bad frame was
// acknowledged, fsynced data that has since been damaged.
func intactBatchAfter(f *os.File, from, size int64, nextSeq uint64) (bool, error) {
	found := false
	err := scanCommits(f, from, size, func(buf []byte, p int, c commitInfo) bool {
		if c.first < nextSeq || int64(c.len) > int64(p) {
			return true
		}
		found = crc(buf[p-int(c.len):p]) == c.batch
		return !found
	})
	return found, err
}

// completeBatchDamaged reports whether the batch that starts at from (the
// end of the last intact commit) was written in full, its commit frame
// intact and in place, yet fails its checksum without a run of zeros to
// explain it. A crash leaves the last batch cut short, or with whole
// pages that never reached the disk reading as zeros; it does not change
// bytes that were written. A complete batch that fails its checksum was
// therefore acknowledged (its fsync can have returned) and damaged since:
// tampering, not a torn write to cut.
func completeBatchDamaged(f *os.File, from, size int64, nextSeq uint64) (bool, error) {
	damaged := false
	err := scanCommits(f, from, size, func(buf []byte, p int, c commitInfo) bool {
		if c.first != nextSeq || int64(c.len) != int64(p) {
			return true
		}
		damaged = crc(buf[:p]) != c.batch && !hasZeroRun(buf[:p+frameHeaderSize+commitPayloadSize], lostPageZeros)
		return false
	})
	return damaged, err
}

// scanCommits reads [from, size) of f and calls yield, in order of
// offset, with every intact commit frame of a non-empty batch found there
// at any offset p of the bytes read (buf), until yield returns false.
func scanCommits(f *os.File, from, size int64, yield func(buf []byte, p int, c commitInfo) bool) error {
	frame := frameHeaderSize + commitPayloadSize
	if size-from < int64(frame) {
		return nil
	}
	buf := make([]byte, size-from)
	if _, err := f.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	for p := 0; p+frame <= len(buf); p++ {
		if binary.BigEndian.Uint32(buf[p:]) != commitPayloadSize || buf[p+frameHeaderSize] != kindCommit {
			continue
		}
		payload := buf[p+frameHeaderSize : p+frame]
		if crc(payload) != binary.BigEndian.Uint32(buf[p+4:]) {
			continue
		}
		if c, _ := parseCommit(payload); c.count != 0 && !yield(buf, p, c) {
			return nil
		}
	}
	return nil
}

// lostPageZeros is the shortest run of zero bytes taken as a page that
// never reached the disk. Records are JSON and never hold a zero byte;
// frame headers and commits hold at most eight in a row.
const lostPageZeros = 16

func hasZeroRun(b []byte, n int) bool {
	run := 0
	for _, c := range b {
		if c != 0 {
			run = 0
			continue
		}
		if run++; run >= n {
			return true
		}
	}
	return false
}
