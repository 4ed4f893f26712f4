// A Go host of cace: adds a model, streams completions from one goroutine per request, cancels
// one, reads the metrics.
//
//	cace_go_host MODEL_PATH
package main

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"cace.example/host/cace"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cace_go_host MODEL_PATH")
		os.Exit(2)
	}
	fmt.Println("cace", cace.Version())
	engine, err := cace.NewEngine(256<<20, "cace")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer engine.Close()
	if err := engine.AddModel(os.Args[1], "tiny"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	// Four requests, one goroutine each; the last is cancelled as soon as it is submitted.
	const requests = 4
	results := make([]string, requests)
	oks := make([]bool, requests)
	var wg sync.WaitGroup
	for i := 0; i < requests; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			stream, err := engine.Submit("tiny", fmt.Sprintf("def f%d(x):", i), 12)
			if err != nil {
				results[i] = err.Error()
				return
			}
			defer stream.Close()
			cancel := i == requests-1
			pending := false
			if cancel {
				pending, _ = stream.Cancel()
			}
			var text strings.Builder
			for {
				piece, done, result := stream.Next()
				if !done {
					text.WriteString(piece)
					continue
				}
				if cancel {
					oks[i] = !pending || cace.IsCancelled(result.Err)
					results[i] = fmt.Sprintf("cancelled: was pending %v, %v", pending, result.Err)
				} else {
					oks[i] = result.Err == nil && text.Len() > 0
					results[i] = fmt.Sprintf("streamed %q (%d tokens, %v)", text.String(), result.CompletionTokens, result.Err)
				}
				return
			}
		}(i)
	}
	wg.Wait()
	ok := true
	for i := range results {
		fmt.Println(results[i])
		ok = ok && oks[i]
	}
	metrics, err := engine.PrometheusText()
	ok = ok && err == nil && strings.Contains(metrics, "cace_requests_total")
	fmt.Printf("metrics: %d bytes of Prometheus text\n", len(metrics))
	if !ok {
		fmt.Println("FAILED")
		os.Exit(1)
	}
	fmt.Println("ok")
}
