package streamwire

// This file holds the uvarints of the format: those of encoding/binary,
// written here so that the browser's module does not link that package.

// maxUvarint is the longest encoding of a uint64.
const maxUvarint = 10

// appendUvarint appends v's encoding to dst.
func appendUvarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// uvarintLen returns the length of v's encoding.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// uvarint decodes the uvarint at the start of b and returns it with its
// length. It returns ErrShort if b ends inside it, and ErrVarint if it
// overflows 64 bits or is not minimal (ends with a zero byte after the
// first), so that every number has one encoding.
func uvarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < maxUvarint; i++ {
		if i == len(b) {
			return 0, 0, ErrShort
		}
		c := b[i]
		if i == maxUvarint-1 && c > 1 {
			return 0, 0, ErrVarint // beyond 64 bits
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 && i > 0 {
				return 0, 0, ErrVarint // a longer encoding of a shorter number
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, ErrVarint
}
