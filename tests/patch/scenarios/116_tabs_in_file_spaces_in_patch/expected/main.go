package main

import "fmt"

func main() {
	name := "world"
	fmt.Printf("Hello, %s!\n", name)
}
