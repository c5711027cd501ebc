// nalu: the command-line tool (cli.cpp).
#include "cli.h"

int main(int argc, char** argv) {
  return nalu::cli::run(argc, argv);
}
