package wire

import "encoding/binary"

// Mask XORs b in place with the masking key, as RFC 6455 §5.3 describes for
// both masking and unmasking. pos is the offset of b[0] within the frame's
// payload, so a payload can be processed in chunks as it streams: pass the
// returned position to the next call.
func Mask(key [4]byte, pos int, b []byte) int {
	end := pos + len(b)
	if len(b) < 16 {
		for i := range b {
			b[i] ^= key[(pos+i)&3]
		}
		return end & 3
	}

	// Align the key with b[0], then work eight bytes at a time. The byte
	// order used to load the key and the data is the same, so the result
	// does not depend on the machine's endianness.
	var k [4]byte
	for i := range k {
		k[i] = key[(pos+i)&3]
	}
	k32 := uint64(binary.LittleEndian.Uint32(k[:]))
	k64 := k32<<32 | k32

	for len(b) >= 32 {
		w := b[:32]
		binary.LittleEndian.PutUint64(w[0:], binary.LittleEndian.Uint64(w[0:])^k64)
		binary.LittleEndian.PutUint64(w[8:], binary.LittleEndian.Uint64(w[8:])^k64)
		binary.LittleEndian.PutUint64(w[16:], binary.LittleEndian.Uint64(w[16:])^k64)
		binary.LittleEndian.PutUint64(w[24:], binary.LittleEndian.Uint64(w[24:])^k64)
		b = b[32:]
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= k[i&3]
	}
	return end & 3
}
