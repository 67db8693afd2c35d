package schemas

import "unsafe"

// unsafeString views b as a string without copying. Only for values that are parsed on the
// spot and not retained (decimal parsing copies the digits into a big.Int).
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
