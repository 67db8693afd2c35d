package ledger

// outBuf holds the bytes of the records the handler produces (keys, values, headers): each
// is encoded straight after the previous one into a shared chunk, so a record costs no
// allocation of its own and no growth copies of a value encoded from nil. Bytes handed out
// are never written again (the producer holds them until they are acknowledged): a chunk
// with too little room left is replaced, not reused.
type outBuf struct{ b []byte }

// outChunk is the size of the chunks outBuf encodes into.
const outChunk = 64 << 10

// outRoom is the room a chunk must have left before an encoding starts in it; a longer
// encoding grows the chunk by a copy (append), which leaves earlier bytes where they are.
const outRoom = 1 << 10

// start returns the offset at which the next encoding begins, with room for it.
func (o *outBuf) start() int {
	if cap(o.b)-len(o.b) < outRoom {
		o.b = make([]byte, 0, outChunk)
	}
	return len(o.b)
}

// since returns the bytes encoded from offset n on, capped so that later encodings can
// never write into them.
func (o *outBuf) since(n int) []byte { return o.b[n:len(o.b):len(o.b)] }

// bytes returns a copy of s from the chunk.
func (o *outBuf) bytes(s string) []byte {
	n := o.start()
	o.b = append(o.b, s...)
	return o.since(n)
}
