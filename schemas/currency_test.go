package schemas

import "testing"

// TestCurrencyIndex: every known code numbers from 1 and back to itself with its minor unit;
// unknown codes and 0 have none.
func TestCurrencyIndex(t *testing.T) {
	seen := map[uint8]bool{}
	for _, c := range currencyTable {
		i, ok := CurrencyIndex(c.code)
		code, minor := CurrencyAt(i)
		if !ok || i == 0 || seen[i] || code != c.code || minor != c.minor {
			t.Errorf("%s: index %d %v → %q %d", c.code, i, ok, code, minor)
		}
		seen[i] = true
	}
	if _, ok := CurrencyIndex("eur"); ok {
		t.Errorf("eur has an index")
	}
	if code, minor := CurrencyAt(0); code != "" || minor != 0 {
		t.Errorf("CurrencyAt(0) = %q %d", code, minor)
	}
	if code, _ := CurrencyAt(uint8(len(currencyTable) + 1)); code != "" {
		t.Errorf("CurrencyAt beyond the table = %q", code)
	}
}
