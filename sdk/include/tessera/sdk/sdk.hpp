#pragma once
/// @file sdk.hpp
/// Everything a plugin needs, in one include (plugin_export.hpp aside, which the plugin's
/// registration file includes on its own).
/// @since 1.0

#include "tessera/sdk/deferred_durability_storage.hpp"
#include "tessera/sdk/dicom_object_view.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/host_services.hpp"
#include "tessera/sdk/http.hpp"
#include "tessera/sdk/index_provider.hpp"
#include "tessera/sdk/plugin_set.hpp"
#include "tessera/sdk/provider.hpp"
#include "tessera/sdk/query_ast.hpp"
#include "tessera/sdk/query_provider.hpp"
#include "tessera/sdk/search_result.hpp"
#include "tessera/sdk/settings_section.hpp"
#include "tessera/sdk/storage_provider.hpp"
#include "tessera/sdk/uri.hpp"
#include "tessera/sdk/version.hpp"
#include "tessera/sdk/web_service_provider.hpp"
