// The one oneDNN CPU engine of the process (defined in conv_plan.cpp); streams are per plan.
#pragma once

#include "dnnl.hpp"

namespace dcls {

dnnl::engine &cpu_engine();

}  // namespace dcls
