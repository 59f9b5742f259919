package fake

// Kept is a log of what a fake received that keeps the most recent
// entries only: at most MaxKept of them weighing MaxKeptBytes in all, so
// that a fake serving for days (the sandbox), or one that anyone can
// send to, does not grow without end. It counts every entry added since
// the last Reset, those it forgot included. The zero value is ready to
// use. It is not safe for concurrent use: its owner holds a lock around
// it.
type Kept[T any] struct {
	items   []T
	weights []int
	bytes   int
	dropped int
}

// The bounds of a Kept log.
const (
	MaxKept      = 10000
	MaxKeptBytes = 64 << 20
)

// Add keeps v, which weighs weight bytes, forgetting the oldest entries
// once a bound is passed, and then a tenth more of MaxKept, so that the
// log is not shifted at every entry; the kept ones move to new slices,
// freeing the old.
func (k *Kept[T]) Add(v T, weight int) {
	k.items = append(k.items, v)
	k.weights = append(k.weights, weight)
	k.bytes += weight
	if len(k.items) <= MaxKept && k.bytes <= MaxKeptBytes {
		return
	}
	n := 0
	for n < len(k.items)-1 && (len(k.items)-n > MaxKept-MaxKept/10 || k.bytes > MaxKeptBytes) {
		k.bytes -= k.weights[n]
		n++
	}
	k.items = append([]T(nil), k.items[n:]...)
	k.weights = append([]int(nil), k.weights[n:]...)
	k.dropped += n
}

// Items returns the entries kept, oldest first; the slice is the log's
// own, to be copied before the owner's lock is released.
func (k *Kept[T]) Items() []T { return k.items }

// Len is the number of entries added since the last Reset.
func (k *Kept[T]) Len() int { return len(k.items) + k.dropped }

// Bytes is the weight of the entries kept.
func (k *Kept[T]) Bytes() int { return k.bytes }

// Reset forgets everything.
func (k *Kept[T]) Reset() { *k = Kept[T]{} }
