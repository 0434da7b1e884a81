"""compare-npy.py A.npy B.npy ATOL: max |a - b| over two f32 .npy files of
the same shape, failing (exit 1) when it exceeds ATOL. No numpy needed."""
import array
import ast
import sys


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        sys.exit(f"{path}: not an .npy file")
    size = 2 if data[6] == 1 else 4
    hlen = int.from_bytes(data[8:8 + size], "little")
    start = 8 + size
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        sys.exit(f"{path}: expected little-endian f32 in C order")
    values = array.array("f")
    values.frombytes(data[start + hlen:])
    return header["shape"], values


shape_a, a = load(sys.argv[1])
shape_b, b = load(sys.argv[2])
atol = float(sys.argv[3])
if shape_a != shape_b:
    sys.exit(f"shapes differ: {shape_a} vs {shape_b}")
diff = max(abs(x - y) for x, y in zip(a, b))
print(f"{len(a)} elements, max |a - b| = {diff:.3g} (atol {atol:g}): "
      + ("SAME" if diff <= atol else "DIFFERENT"))
sys.exit(0 if diff <= atol else 1)
