package sink

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/topology"
	"github.com/taskole/revshare/schemas"
)

// route is how the records of one topic become rows of its raw table: decode, check,
// append. Each topic family has one small file (route_*.go) declaring its columns, its
// checks and its row mapping; the topology says which topic goes to which table.
type route interface {
	// rows returns the table the route's valid records go to.
	rows() *table
	// skip reports whether r makes no row and needs no judgement (a progress marker, the
	// sink's own dead letter).
	skip(r *kgo.Record) bool
	// judge decodes and checks r — the one validation of the sink, shared with its
	// dead-letter judge — and, when add is set, appends the valid row. It returns the
	// refusal, or nil.
	judge(r *kgo.Record, add bool) *schemas.InvalidError
}

// routeConfig is what a route's constructor needs.
type routeConfig struct {
	db       string
	bounds   schemas.Bounds
	consumer string // the sink's consumer name (its own dead letters carry it)
}

// families returns the constructor of the route of every raw table the sink fills, by table
// name (topology.Topic.Table).
func families() map[string]func(routeConfig) route {
	return map[string]func(routeConfig) route{
		"bookings":          bookingsRoute,
		"enrollments":       enrollmentsRoute,
		"businesses":        businessesRoute,
		"feedback":          feedbackRoute,
		"acquisition_costs": acquisitionCostsRoute,
		"retention_costs":   retentionCostsRoute,
		"referral_owners":   referralOwnersRoute,
		"commissions":       commissionsRoute,
		"purchase_facts":    purchaseFactsRoute,
		"payouts":           payoutsRoute,
		"dlq":               dlqRoute,
	}
}

// routesOf returns the route of every topic of tp that the sink copies, by topic name, and
// their tables in the order the topology lists them (the order of a flush's inserts).
func routesOf(tp topology.Topology, rc routeConfig) (map[string]route, []*table, error) {
	fam := families()
	routes := map[string]route{}
	var tables []*table
	for _, t := range tp.Topics() {
		if t.Table == "" {
			continue
		}
		mk, ok := fam[t.Table]
		if !ok {
			return nil, nil, fmt.Errorf("topic %s: the sink has no route to table %s", t.Name, t.Table)
		}
		if _, dup := routes[t.Name]; dup {
			return nil, nil, fmt.Errorf("topic %s is declared twice", t.Name)
		}
		rt := mk(rc)
		routes[t.Name] = rt
		tables = append(tables, rt.rows())
	}
	return routes, tables, nil
}

// rowsOf is the route of a topic whose records decode to a T.
type rowsOf[T any] struct {
	table
	decode func([]byte) (T, error)
	check  func(*T) *schemas.InvalidError // nil: the decoder's checks suffice
	add    func(*T)                       // appends the row's own columns
	skips  func(*kgo.Record) bool         // nil: every record makes a row
}

// newRoute returns the route into table name of db with the given own columns.
func newRoute[T any](rc routeConfig, name string, cols []namedCol,
	decode func([]byte) (T, error), check func(*T) *schemas.InvalidError, add func(*T)) *rowsOf[T] {
	r := &rowsOf[T]{decode: decode, check: check, add: add}
	r.table.init(rc.db, name, cols)
	return r
}

func (r *rowsOf[T]) rows() *table { return &r.table }

func (r *rowsOf[T]) skip(rec *kgo.Record) bool { return r.skips != nil && r.skips(rec) }

func (r *rowsOf[T]) judge(rec *kgo.Record, add bool) *schemas.InvalidError {
	if r.skip(rec) {
		return nil
	}
	v, err := r.decode(rec.Value)
	if err != nil {
		return decodeErr(err)
	}
	if r.check != nil {
		if e := r.check(&v); e != nil {
			return e
		}
	}
	if add {
		r.add(&v)
		r.table.added(rec)
	}
	return nil
}
