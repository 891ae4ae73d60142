package hlrsim_test

import (
	"context"
	"fmt"

	"github.com/omnigate/omnigate/internal/hlr"
	"github.com/omnigate/omnigate/internal/hlrsim"
)

// The simulator answers by the number's last digit: 2 is a number ported
// to another network of its country.
func ExampleSimulator_Query() {
	sim := hlrsim.New(hlrsim.Config{Delay: -1}) // answer at once
	res, err := sim.Query(context.Background(), hlr.Query{MSISDN: "31612345672", Country: "NL"})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, res.Network, res.Details.Ported, res.Details.CountryName)
	// Output: active 20416 1 Netherlands
}
