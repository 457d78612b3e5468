# numpy matmul GFLOP/s for the engine benchmark: prints {"256": x, "512": y}.
import json, time
import numpy as np

result = {}
for n in (256, 512):
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    a @ b
    reps = 200 if n == 256 else 50
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    seconds = (time.perf_counter() - start) / reps
    result[str(n)] = 2 * n ** 3 / seconds / 1e9
print(json.dumps(result))
