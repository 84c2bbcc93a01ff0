package ws_test

import (
	"bytes"
	stdflate "compress/flate"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/flate"

	"duplex/server/internal/wsbench"
)

// BenchmarkFlate is how the flate implementation was chosen: the standard
// library's compress/flate against github.com/klauspost/compress/flate,
// compressing one message at a time as permessage-deflate does (a writer
// reset for each message and flushed at its end) and inflating it again,
// on JSON-like text of 1 KiB and 64 KiB. It reports the speed (of the
// uncompressed bytes) and the ratio, compressed/original.
//
//	go test ./server/ws -run '^$' -bench Flate
func BenchmarkFlate(b *testing.B) {
	type impl struct {
		name   string
		writer func(level int) (io.Writer, func(io.Writer), func() error)
		reader func() (io.Reader, func(io.Reader) error)
		levels []int
	}
	impls := []impl{
		{
			name: "std",
			writer: func(level int) (io.Writer, func(io.Writer), func() error) {
				w, _ := stdflate.NewWriter(nil, level)
				return w, w.Reset, w.Flush
			},
			reader: func() (io.Reader, func(io.Reader) error) {
				r := stdflate.NewReader(nil)
				return r, func(src io.Reader) error { return r.(stdflate.Resetter).Reset(src, nil) }
			},
			levels: []int{1, 2, 6},
		},
		{
			name: "klauspost",
			writer: func(level int) (io.Writer, func(io.Writer), func() error) {
				w, _ := flate.NewWriter(nil, level)
				return w, w.Reset, w.Flush
			},
			reader: func() (io.Reader, func(io.Reader) error) {
				r := flate.NewReader(nil)
				return r, func(src io.Reader) error { return r.(flate.Resetter).Reset(src, nil) }
			},
			levels: []int{1, 2, 3, 5},
		},
	}
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}} {
		msg := wsbench.JSONText(size.n)
		for _, im := range impls {
			for _, level := range im.levels {
				w, reset, flush := im.writer(level)
				var out bytes.Buffer
				compress := func() {
					out.Reset()
					reset(&out)
					w.Write(msg)
					flush()
				}
				b.Run(fmt.Sprintf("compress/%s/%s-L%d", size.name, im.name, level), func(b *testing.B) {
					b.SetBytes(int64(len(msg)))
					b.ReportAllocs()
					for b.Loop() {
						compress()
					}
					b.ReportMetric(float64(out.Len()-4)/float64(len(msg)), "ratio")
				})
				if level != 1 {
					continue
				}
				compress()
				compressed := append(bytes.Clone(out.Bytes()), 0x01, 0x00, 0x00, 0xff, 0xff)
				r, resetR := im.reader()
				dst := make([]byte, len(msg))
				b.Run(fmt.Sprintf("inflate/%s/%s", size.name, im.name), func(b *testing.B) {
					b.SetBytes(int64(len(msg)))
					b.ReportAllocs()
					var src bytes.Reader
					for b.Loop() {
						src.Reset(compressed)
						resetR(&src)
						if n, err := io.ReadFull(r, dst); err != nil || n != len(msg) {
							b.Fatal(n, err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkDictionary is how the dictionary of context takeover was sized
// (maxHistory): compressing chat messages of 100 to 250 bytes, and JSON of
// 1 KiB and 64 KiB, each against the end of the text before it, as a
// connection with context takeover does, for dictionaries of 0 to 8 KiB.
// It reports the time per message and the ratio, compressed/original.
//
//	go test ./server/ws -run '^$' -bench Dictionary
func BenchmarkDictionary(b *testing.B) {
	next := wsbench.JSONMessages(1)
	var chat []byte // a stream of chat messages, and where each starts
	var starts []int
	for len(chat) < 1<<20 {
		starts = append(starts, len(chat))
		chat = append(chat, next()...)
	}
	json := wsbench.JSONText(1 << 20)
	for _, msgs := range []struct {
		name   string
		stream []byte
		cut    func(i int) (start, end int)
	}{
		{"chat", chat, func(i int) (int, int) { i = 100 + i%(len(starts)-101); return starts[i], starts[i+1] }},
		{"1KiB", json, func(i int) (int, int) { s := 8<<10 + (i<<10)%(len(json)-16<<10); return s, s + 1<<10 }},
		{"64KiB", json, func(i int) (int, int) { s := 8<<10 + (i<<16)%(len(json)-80<<10); return s, s + 64<<10 }},
	} {
		for _, dict := range []int{0, 1 << 10, 2 << 10, 4 << 10, 8 << 10} {
			b.Run(fmt.Sprintf("%s/dict-%dKiB", msgs.name, dict>>10), func(b *testing.B) {
				w, _ := flate.NewWriter(nil, flate.BestSpeed)
				var out bytes.Buffer
				in, compressed := 0, 0
				i := 0
				for b.Loop() {
					start, end := msgs.cut(i)
					i++
					out.Reset()
					w.ResetDict(&out, msgs.stream[max(0, start-dict):start])
					w.Write(msgs.stream[start:end])
					w.Flush()
					in += end - start
					compressed += out.Len() - 4
				}
				b.ReportMetric(float64(compressed)/float64(in), "ratio")
			})
		}
	}
}

// BenchmarkThreshold is how DefaultCompressionThreshold was chosen:
// compressing the first n bytes of chat messages, without a dictionary
// and against 2 KiB of the messages before, for n around the threshold.
// Under 128 bytes the flate writer only Huffman-codes, and a dictionary
// does not help.
//
//	go test ./server/ws -run '^$' -bench Threshold
func BenchmarkThreshold(b *testing.B) {
	next := wsbench.JSONMessages(3)
	var chat []byte
	var starts []int
	for len(chat) < 1<<20 {
		starts = append(starts, len(chat))
		m := next()
		for len(m) < 512 { // long enough to cut to every size
			m = append(m[:len(m)-1], `,"more":`...)
			m = append(m, next()...)
			m = append(m, '}')
		}
		chat = append(chat, m...)
	}
	for _, n := range []int{64, 96, 128, 192, 256, 512} {
		for _, dict := range []int{0, maxHistoryBench} {
			b.Run(fmt.Sprintf("%dB/dict-%dKiB", n, dict>>10), func(b *testing.B) {
				w, _ := flate.NewWriter(nil, flate.BestSpeed)
				var out bytes.Buffer
				in, compressed := 0, 0
				i := 0
				for b.Loop() {
					start := starts[20+i%(len(starts)-21)]
					i++
					out.Reset()
					w.ResetDict(&out, chat[max(0, start-dict):start])
					w.Write(chat[start : start+n])
					w.Flush()
					in += n
					compressed += out.Len() - 4
				}
				b.ReportMetric(float64(compressed)/float64(in), "ratio")
			})
		}
	}
}

// maxHistoryBench is the package's maxHistory, which this external test
// package cannot see.
const maxHistoryBench = 2 << 10
