package simulate

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"
)

// Sector indexes.
const (
	beauty = iota
	spa
	massage
	fitness
	yoga
	nutrition
	nSectors
)

// sectorSpec describes how a sector's businesses and their clients behave.
type sectorSpec struct {
	name  string
	share float64 // share of businesses
	// visits is the mean bookings per month of a client whose owner is in this sector.
	visits             float64
	priceLo, priceHi   int64 // typical price range, EUR cents
	hazard             float64
	season             [12]float64 // booking multiplier per calendar month, January first
	categories         []string
	affinity           [nSectors]float64 // where the sector's clients book elsewhere
	prefixes           []string
	feedbackPropensity float64
}

var sectors = [nSectors]sectorSpec{
	beauty: {
		name: "beauty", share: 0.30, visits: 0.9, priceLo: 2500, priceHi: 9500, hazard: 0.06,
		season:             [12]float64{0.8, 0.9, 1.0, 1.05, 1.1, 1.15, 0.9, 0.9, 1.0, 1.0, 1.1, 1.35},
		categories:         []string{"haircut", "colouring", "manicure", "pedicure", "facial", "brows"},
		affinity:           [nSectors]float64{beauty: 0.25, spa: 0.3, massage: 0.3, fitness: 0.05, yoga: 0.05, nutrition: 0.05},
		prefixes:           []string{"Ilusalong", "Beauty Studio", "Salong", "Nail Bar", "Juuksur"},
		feedbackPropensity: 0.30,
	},
	spa: {
		name: "spa", share: 0.10, visits: 0.35, priceLo: 6000, priceHi: 18000, hazard: 0.09,
		season:             [12]float64{0.9, 1.2, 1.0, 0.95, 0.95, 0.9, 0.8, 0.85, 0.95, 1.05, 1.1, 1.3},
		categories:         []string{"day-spa", "sauna", "body-wrap", "hydrotherapy"},
		affinity:           [nSectors]float64{beauty: 0.35, spa: 0.1, massage: 0.35, fitness: 0.05, yoga: 0.1, nutrition: 0.05},
		prefixes:           []string{"Spa", "Day Spa", "Saun & Spa", "Wellness"},
		feedbackPropensity: 0.35,
	},
	massage: {
		name: "massage", share: 0.15, visits: 0.6, priceLo: 4500, priceHi: 10000, hazard: 0.07,
		season:             [12]float64{1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.85, 0.9, 1.0, 1.05, 1.05, 1.15},
		categories:         []string{"classic", "sports", "hot-stone", "lymphatic"},
		affinity:           [nSectors]float64{beauty: 0.2, spa: 0.3, massage: 0.1, fitness: 0.15, yoga: 0.15, nutrition: 0.1},
		prefixes:           []string{"Massaažistuudio", "Massage House", "Massaaž"},
		feedbackPropensity: 0.25,
	},
	fitness: {
		name: "fitness", share: 0.20, visits: 2.4, priceLo: 1000, priceHi: 3500, hazard: 0.08,
		season:             [12]float64{1.4, 1.2, 1.1, 1.0, 1.0, 0.9, 0.7, 0.75, 1.15, 1.05, 1.0, 0.85},
		categories:         []string{"group-class", "personal-training", "open-gym", "membership"},
		affinity:           [nSectors]float64{beauty: 0.1, spa: 0.1, massage: 0.35, fitness: 0.05, yoga: 0.15, nutrition: 0.25},
		prefixes:           []string{"Jõusaal", "Fitness Club", "CrossFit", "Gym"},
		feedbackPropensity: 0.15,
	},
	yoga: {
		name: "yoga", share: 0.15, visits: 1.8, priceLo: 1200, priceHi: 2500, hazard: 0.07,
		season:             [12]float64{1.3, 1.15, 1.05, 1.0, 1.0, 0.9, 0.7, 0.8, 1.2, 1.05, 1.0, 0.85},
		categories:         []string{"class", "workshop", "private-session", "retreat"},
		affinity:           [nSectors]float64{beauty: 0.1, spa: 0.25, massage: 0.3, fitness: 0.1, yoga: 0.05, nutrition: 0.2},
		prefixes:           []string{"Jooga", "Yoga Studio", "Joogakeskus"},
		feedbackPropensity: 0.20,
	},
	nutrition: {
		name: "nutrition", share: 0.10, visits: 0.45, priceLo: 5000, priceHi: 12000, hazard: 0.10,
		season:             [12]float64{1.5, 1.2, 1.05, 1.05, 1.2, 1.0, 0.75, 0.8, 1.05, 0.95, 0.9, 0.6},
		categories:         []string{"consultation", "follow-up", "meal-plan"},
		affinity:           [nSectors]float64{beauty: 0.1, spa: 0.1, massage: 0.15, fitness: 0.4, yoga: 0.2, nutrition: 0.05},
		prefixes:           []string{"Toitumisnõustaja", "Nutrition Lab", "Tervisekool"},
		feedbackPropensity: 0.30,
	},
}

var (
	nameWords = []string{"Roos", "Lumi", "Hele", "Kuldne", "Meri", "Päike", "Tugev", "Kodu", "Rahu",
		"Linden", "Aura", "Nord", "Vaikus", "Tuul", "Laine", "Sära", "Kaste", "Mets", "Kivi", "Saar",
		"Lootus", "Õis", "Helk", "Kask", "Pilv", "Vikerkaar", "Allikas", "Luik", "Karu", "Tamm"}
	cities    = []string{"Tallinn", "Tartu", "Pärnu", "Narva", "Viljandi", "Haapsalu", "Rakvere", "Kuressaare"}
	jpCities  = []string{"Tokyo", "Osaka", "Kyoto"}
	adChannel = []string{"facebook", "google", "instagram", "flyers", "influencer", "newsletter"}
)

// currencySpec converts the EUR price model into a currency's minor units.
type currencySpec struct {
	code string
	exp  int32   // ISO 4217 minor unit
	rate float64 // minor units per EUR cent
	step int64   // price rounding step in minor units
}

var (
	eur = currencySpec{code: "EUR", exp: 2, rate: 1, step: 50}
	jpy = currencySpec{code: "JPY", exp: 0, rate: 1.6, step: 100}
	bhd = currencySpec{code: "BHD", exp: 3, rate: 4.1, step: 250}
)

// business is one simulated business. Everything is fixed at construction.
type business struct {
	id       string
	name     string
	sector   int
	cur      currencySpec
	price    int64   // base price in minor units
	weight   float64 // size: how many clients it brings and attracts
	quality  float64 // 0..1, drives NPS/CSAT
	onboard  time.Time
	month    int   // month index whose batch carries its profile event (0 for earlier ones)
	rate     int64 // referral rate in thousandths
	newRate  int64 // rate after the change, in thousandths; 0 when none
	changeAt int   // month index the new rate takes effect
	spend    int64 // monthly marketing spend in minor units; 0 when it does not market
}

// picker draws indexes in proportion to weights.
type picker struct {
	idx []int
	cum []float64
}

func (p *picker) add(i int, w float64) {
	total := 0.0
	if n := len(p.cum); n > 0 {
		total = p.cum[n-1]
	}
	p.idx = append(p.idx, i)
	p.cum = append(p.cum, total+w)
}

func (p *picker) pick(r *rand.Rand) int {
	n := len(p.cum)
	if n == 0 {
		return -1
	}
	x := r.Float64() * p.cum[n-1]
	j := sort.SearchFloat64s(p.cum, x)
	if j >= n {
		j = n - 1
	}
	return p.idx[j]
}

// buildBusinesses creates the businesses of cfg, deterministic in cfg.Seed.
func buildBusinesses(cfg Config, tag string) ([]business, picker, [nSectors]picker) {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6275736e657373)) // "business"
	width := len(strconv.Itoa(cfg.Businesses - 1))
	var shares picker
	for s := range sectors {
		shares.add(s, sectors[s].share)
	}
	out := make([]business, cfg.Businesses)
	var all picker
	var bySector [nSectors]picker
	for i := range out {
		b := &out[i]
		drawBusiness(b, r, cfg, i, width, tag, &shares)
		all.add(i, b.weight)
		bySector[b.sector].add(i, b.weight)
	}
	return out, all, bySector
}

// drawBusiness draws business i of cfg into b from r (the same draws, in the same order,
// for the same seed).
func drawBusiness(b *business, r *rand.Rand, cfg Config, i, width int, tag string, shares *picker) {
	span := cfg.Start.AddDate(0, cfg.Months, 0).Sub(cfg.Start)
	b.id = "b" + tag + "-" + pad(i, width)
	b.sector = shares.pick(r)
	if i < nSectors { // every sector has at least one business
		b.sector = i
	}
	b.cur = eur
	switch {
	case cfg.Businesses >= 20 && i%40 == 17:
		b.cur = jpy
	case cfg.Businesses >= 20 && i%40 == 33:
		b.cur = bhd
	}
	sec := &sectors[b.sector]
	city := cities[r.IntN(len(cities))]
	if b.cur.code == "JPY" {
		city = jpCities[r.IntN(len(jpCities))]
	} else if b.cur.code == "BHD" {
		city = "Manama"
	}
	b.name = sec.prefixes[r.IntN(len(sec.prefixes))] + " " + nameWords[r.IntN(len(nameWords))] + " " + city
	eurCents := sec.priceLo + r.Int64N(sec.priceHi-sec.priceLo+1)
	b.price = max(roundTo(int64(float64(eurCents)*b.cur.rate), b.cur.step), b.cur.step)
	// Pareto sizes: a few large businesses bring most clients.
	b.weight = math.Min(math.Pow(1-r.Float64(), -1/1.3), 60)
	b.quality = 0.35 + 0.65*r.Float64()
	if r.Float64() < 0.55 || i < nSectors {
		b.onboard = cfg.Start.Add(-time.Duration(1+r.IntN(365*24)) * time.Hour)
	} else {
		b.onboard = cfg.Start.Add(time.Duration(r.Float64() * 0.85 * float64(span))).Truncate(time.Minute)
		b.month = monthIndex(cfg.Start, b.onboard)
	}
	b.rate = 30 + 5*int64(r.IntN(15)) // 0.030 … 0.100
	if cfg.Months >= 3 && r.Float64() < 0.15 {
		first := max(b.month+2, 2)
		if first <= cfg.Months-1 {
			b.changeAt = first + r.IntN(cfg.Months-first)
			delta := 10 + 5*int64(r.IntN(5))
			if r.IntN(2) == 0 && b.rate-delta >= 20 {
				delta = -delta
			}
			b.newRate = min(b.rate+delta, 120)
		}
	}
	if r.Float64() < 0.5 {
		b.spend = roundTo(int64(float64(5000+r.IntN(60000))*b.weight/3*b.cur.rate), b.cur.step*2)
		b.spend = max(b.spend, 2*b.cur.step)
	}
}

func roundTo(v, step int64) int64 { return (v + step/2) / step * step }

func pad(i, width int) string {
	s := strconv.Itoa(i)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// monthIndex is the number of whole calendar months from start to t (start is a month start).
func monthIndex(start, t time.Time) int {
	y1, m1, _ := start.Date()
	y2, m2, _ := t.UTC().Date()
	return (y2-y1)*12 + int(m2-m1)
}
