func.func @f() {
  return
}
func.func @"unterminated