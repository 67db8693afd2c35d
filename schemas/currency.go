package schemas

// currency is one ISO 4217 code with its minor unit (the number of decimal places).
type currency struct {
	code  string
	minor int32
}

// currencies is ISO 4217 list one (active codes) as amended up to 2025, keyed by the
// alphabetic code. Codes whose minor unit is "N.A." (precious metals XAU/XAG/XPD/XPT,
// SDR XDR, the bond-market units XBA–XBD, XSU, XUA and the test/no-currency codes XTS/XXX)
// are deliberately absent: they are not money a booking can be paid in.
// The table and the map are only read after package initialisation.
var currencyTable = []currency{
	{"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2},
	{"AUD", 2}, {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2},
	{"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2},
	{"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2},
	{"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2},
	{"COU", 2}, {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0},
	{"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2},
	{"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2},
	{"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2},
	{"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2},
	{"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2},
	{"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2},
	{"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2},
	{"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2},
	{"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2},
	{"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2},
	{"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2},
	{"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2},
	{"SGD", 2}, {"SHP", 2}, {"SLE", 2}, {"SLL", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2},
	{"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2},
	{"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2}, {"TZS", 2}, {"UAH", 2},
	{"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2}, {"UYW", 4}, {"UZS", 2},
	{"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2},
	{"XCG", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
}

var currencies = func() map[string]currency {
	if len(currencyTable) > 255 {
		panic("schemas: more currencies than CurrencyIndex numbers")
	}
	m := make(map[string]currency, len(currencyTable))
	for _, c := range currencyTable {
		m[c.code] = c
	}
	return m
}()

// currencyIndexes numbers the codes of currencyTable from 1 (CurrencyIndex).
var currencyIndexes = func() map[string]uint8 {
	m := make(map[string]uint8, len(currencyTable))
	for i, c := range currencyTable {
		m[c.code] = uint8(i + 1)
	}
	return m
}()

// CurrencyIndex numbers a known currency code from 1 (0 is "none"), for callers that keep a
// currency in one byte in memory (the ledger's kept bookings). The numbers are this build's
// table order: never persist them.
func CurrencyIndex(code string) (uint8, bool) {
	i, ok := currencyIndexes[code]
	return i, ok
}

// CurrencyAt is the code and minor unit of a CurrencyIndex number ("" and 0 for 0 or a number
// out of range).
func CurrencyAt(i uint8) (code string, minor int32) {
	if i == 0 || int(i) > len(currencyTable) {
		return "", 0
	}
	c := currencyTable[i-1]
	return c.code, c.minor
}

// MinorUnit returns the ISO 4217 minor unit (exponent) of a currency code: EUR 2, JPY 0,
// BHD 3, CLF 4. ok is false for codes that are not active ISO 4217 currencies; codes are
// case-sensitive ("eur" is not known).
func MinorUnit(code string) (exp int32, ok bool) {
	c, ok := currencies[code]
	return c.minor, ok
}

// lookupCurrency returns the canonical (interned) code, so decoding a currency allocates nothing.
func lookupCurrency(b []byte) (currency, bool) {
	c, ok := currencies[string(b)]
	return c, ok
}
