package shcr_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"runtime/pprof"
	"strings"
	"time"
)

// The side of the process a goroutine works for, as a pprof label: the
// SDK's journeys, the in-process fakes serving them, or the calls a
// benchmark makes to time the bound. Goroutines with no label are the
// runtime's (garbage collection, scheduling, timers).
const (
	sideLabel = "side"
	sideSDK   = "sdk"
	sideFake  = "fake"
	sideBound = "bound"
)

// onSide runs fn with the side label set; the goroutines it starts, and
// theirs, carry it too.
func onSide(side string, fn func()) {
	pprof.Do(context.Background(), pprof.Labels(sideLabel, side), func(context.Context) { fn() })
}

// cpuSplit is the CPU time a profile saw, by side, with the part of the
// SDK's spent in the functions named by cpuProfile's focus.
type cpuSplit struct {
	bySide map[string]time.Duration
	// focus is the SDK's CPU time in stacks through a focus function.
	focus time.Duration
}

// profileCPU starts a CPU profile and returns the function that stops it
// and splits its samples. It fails when a profile is already running
// (go test -cpuprofile). The rate stays at 100 Hz: at 1 kHz the kernel
// delivered a fifth of the signals on a loaded machine, so the samples
// no longer added up to the CPU time spent.
func profileCPU(focus ...string) (stop func() (cpuSplit, error), err error) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return nil, err
	}
	return func() (cpuSplit, error) {
		pprof.StopCPUProfile()
		return splitCPUProfile(buf.Bytes(), focus)
	}, nil
}

// splitCPUProfile reads a gzipped profile.proto CPU profile and sums its
// CPU time by side label, and the SDK's through any of the focus
// functions (matched as substrings of their names).
func splitCPUProfile(gz []byte, focus []string) (cpuSplit, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return cpuSplit{}, err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return cpuSplit{}, err
	}
	type sample struct {
		locs   []uint64
		values []int64
		labels [][2]int64 // key, str
	}
	var (
		strs     []string
		samples  []sample
		locFuncs = map[uint64][]uint64{} // location → functions
		funcName = map[uint64]int64{}    // function → name string index
	)
	err = protoFields(data, func(f int, wire int, v uint64, b []byte) error {
		switch f {
		case 2: // sample
			var s sample
			err := protoFields(b, func(f, wire int, v uint64, b []byte) error {
				switch {
				case f == 1:
					s.locs = appendPacked(s.locs, wire, v, b)
				case f == 2:
					for _, u := range appendPacked(nil, wire, v, b) {
						s.values = append(s.values, int64(u))
					}
				case f == 3:
					var l [2]int64
					err := protoFields(b, func(f, _ int, v uint64, _ []byte) error {
						if f == 1 || f == 2 {
							l[f-1] = int64(v)
						}
						return nil
					})
					s.labels = append(s.labels, l)
					return err
				}
				return nil
			})
			samples = append(samples, s)
			return err
		case 4: // location
			var id uint64
			var fns []uint64
			err := protoFields(b, func(f, _ int, v uint64, b []byte) error {
				switch f {
				case 1:
					id = v
				case 4: // line
					return protoFields(b, func(f, _ int, v uint64, _ []byte) error {
						if f == 1 {
							fns = append(fns, v)
						}
						return nil
					})
				}
				return nil
			})
			locFuncs[id] = fns
			return err
		case 5: // function
			var id uint64
			var name int64
			err := protoFields(b, func(f, _ int, v uint64, _ []byte) error {
				switch f {
				case 1:
					id = v
				case 2:
					name = int64(v)
				}
				return nil
			})
			funcName[id] = name
			return err
		case 6:
			strs = append(strs, string(b))
		}
		return nil
	})
	if err != nil {
		return cpuSplit{}, err
	}
	str := func(i int64) string {
		if i < 0 || int(i) >= len(strs) {
			return ""
		}
		return strs[i]
	}
	inFocus := func(s sample) bool {
		for _, l := range s.locs {
			for _, fn := range locFuncs[l] {
				name := str(funcName[fn])
				for _, f := range focus {
					if strings.Contains(name, f) {
						return true
					}
				}
			}
		}
		return false
	}
	out := cpuSplit{bySide: map[string]time.Duration{}}
	for _, s := range samples {
		if len(s.values) < 2 {
			return cpuSplit{}, errors.New("a CPU profile sample without its nanoseconds")
		}
		side := ""
		for _, l := range s.labels {
			if str(l[0]) == sideLabel {
				side = str(l[1])
			}
		}
		d := time.Duration(s.values[1])
		out.bySide[side] += d
		if side == sideSDK && inFocus(s) {
			out.focus += d
		}
	}
	return out, nil
}

// protoFields calls fn for each field of a protocol buffer message: its
// number, wire type, and its value (varint) or bytes (length-delimited).
func protoFields(b []byte, fn func(field, wire int, v uint64, b []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return errors.New("profile: bad field key")
		}
		b = b[n:]
		field, wire := int(key>>3), int(key&7)
		var v uint64
		var body []byte
		switch wire {
		case 0:
			v, n = binary.Uvarint(b)
			if n <= 0 {
				return errors.New("profile: bad varint")
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return errors.New("profile: short fixed64")
			}
			v, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return errors.New("profile: bad length")
			}
			body, b = b[n:n+int(l)], b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return errors.New("profile: short fixed32")
			}
			v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			return errors.New("profile: unknown wire type")
		}
		if err := fn(field, wire, v, body); err != nil {
			return err
		}
	}
	return nil
}

// appendPacked appends a repeated varint field, packed or not.
func appendPacked(dst []uint64, wire int, v uint64, b []byte) []uint64 {
	if wire != 2 {
		return append(dst, v)
	}
	for len(b) > 0 {
		u, n := binary.Uvarint(b)
		if n <= 0 {
			break
		}
		dst, b = append(dst, u), b[n:]
	}
	return dst
}
