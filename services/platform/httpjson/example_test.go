package httpjson_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/netlab/netlab/services/platform/httpjson"
)

func ExampleWrite() {
	rec := httptest.NewRecorder()
	httpjson.Write(rec, http.StatusCreated, map[string]int{"pieces": 3})
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body)
	// Output:
	// 201 application/json
	// {
	//   "pieces": 3
	// }
}
