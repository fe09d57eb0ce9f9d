package ping

// fifo is a queue of probes in send order. Every probe has the same
// timeout, so send order is also timeout order and the oldest probe is
// always the next to expire: no heap is needed.
type fifo struct {
	items []*probe
	head  int
}

func (q *fifo) push(p *probe) {
	if q.head > 0 && q.head >= len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}
	q.items = append(q.items, p)
}

func (q *fifo) peek() *probe {
	if q.head == len(q.items) {
		return nil
	}
	return q.items[q.head]
}

func (q *fifo) pop() *probe {
	p := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	return p
}

func (q *fifo) len() int { return len(q.items) - q.head }
