#include "Commands.h"
using namespace quantkv_run;
int quantkv_run::runFileCommand(const std::string &file, const std::vector<std::string> &argv) { return usageError("file: not yet"); }
