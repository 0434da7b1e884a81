# -*- Python -*-
# lit configuration of the quantkv test suite.

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "QUANTKV"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.quantkv_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%quantkv_src_root", config.quantkv_src_root))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.quantkv_tools_dir, config.llvm_tools_dir]
tools = ["quantkv-opt"]
# The tools that JIT-compile kernels run under a time limit (lit's own
# --timeout needs psutil): should LLVM's instruction selection not terminate
# on some input, as LLVM 22's did on one variant of the int8 kernel with a
# one-key cache (docs/Benchmarks.md), the test fails with `timeout`'s exit
# status 124 instead of holding the suite until the CI job's limit.
# `lit -D tool_time_limit=SECONDS` changes the limit.
time_limit = lit_config.params.get("tool_time_limit", "900")
timeout_tool = shutil.which("timeout")
for optional in ["quantkv-run", "quantkv-bench", "quantkv-sweep"]:
    path = os.path.join(config.quantkv_tools_dir, optional)
    if os.path.exists(path):
        command = path
        if timeout_tool:
            command = f"{timeout_tool} --kill-after=10 {time_limit} {path}"
        tools.append(ToolSubst(optional, command=command))
        config.available_features.add(optional)
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


# Execution tests are gated on what the machine has, never assumed.
flags = cpu_flags()
for flag in ["avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
             "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8"]:
    if flag in flags:
        config.available_features.add(flag)


def has_vulkan():
    try:
        out = subprocess.run(["vulkaninfo", "--summary"], capture_output=True,
                             timeout=30, text=True)
        return out.returncode == 0 and "deviceName" in out.stdout
    except (OSError, subprocess.SubprocessError):
        return False


if has_vulkan():
    config.available_features.add("vulkan")
if config.quantkv_sanitized:
    config.available_features.add("asan")
