#include "Commands.h"
using namespace quantkv_run;
int quantkv_run::runGridCommand(const std::vector<std::string> &argv) { return usageError("grid: not yet"); }
