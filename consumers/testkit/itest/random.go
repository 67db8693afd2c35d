package itest

import "math/rand/v2"

// RandomBytes returns n bytes drawn from rng (one Uint32 a byte, its low 8 bits): hostile
// input that is the same for the same seed.
func RandomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
