// kontor_phone.cpp: implementation of kontor_phone.h over libphonenumber.
//
// Every entry point catches all exceptions: libphonenumber reports errors by
// return value, but std::string allocation can still throw.

#include "kontor_phone.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstring>
#include <string>

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// Writes `value` NUL-terminated into `out`; "" and an error when it won't fit.
int32_t CopyOut(const std::string& value, char* out, size_t capacity) {
  if (out == nullptr || capacity == 0) {
    return KONTOR_PHONE_ERR_BUFFER_TOO_SMALL;
  }
  if (value.size() >= capacity) {
    out[0] = '\0';
    return KONTOR_PHONE_ERR_BUFFER_TOO_SMALL;
  }
  std::memcpy(out, value.data(), value.size());
  out[value.size()] = '\0';
  return KONTOR_PHONE_OK;
}

void Clear(char* out, size_t capacity) {
  if (out != nullptr && capacity > 0) out[0] = '\0';
}

void ClearInfo(kontor_phone_info* info) {
  std::memset(info, 0, sizeof(*info));
  info->type = KONTOR_PHONE_TYPE_UNKNOWN;
  info->possibility = KONTOR_PHONE_IMPOSSIBLE_INVALID_COUNTRY_CODE;
  std::memcpy(info->region, "ZZ", 3);
}

int32_t MapError(PhoneNumberUtil::ErrorType error) {
  switch (error) {
    case PhoneNumberUtil::NO_PARSING_ERROR: return KONTOR_PHONE_OK;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return KONTOR_PHONE_ERR_INVALID_COUNTRY_CODE;
    case PhoneNumberUtil::NOT_A_NUMBER: return KONTOR_PHONE_ERR_NOT_A_NUMBER;
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
      return KONTOR_PHONE_ERR_TOO_SHORT_AFTER_IDD;
    case PhoneNumberUtil::TOO_SHORT_NSN: return KONTOR_PHONE_ERR_TOO_SHORT_NSN;
    case PhoneNumberUtil::TOO_LONG_NSN: return KONTOR_PHONE_ERR_TOO_LONG_NSN;
  }
  return KONTOR_PHONE_ERR_NOT_A_NUMBER;
}

int32_t MapType(PhoneNumberUtil::PhoneNumberType type) {
  switch (type) {
    case PhoneNumberUtil::FIXED_LINE: return KONTOR_PHONE_TYPE_FIXED_LINE;
    case PhoneNumberUtil::MOBILE: return KONTOR_PHONE_TYPE_MOBILE;
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
      return KONTOR_PHONE_TYPE_FIXED_LINE_OR_MOBILE;
    case PhoneNumberUtil::TOLL_FREE: return KONTOR_PHONE_TYPE_TOLL_FREE;
    case PhoneNumberUtil::PREMIUM_RATE: return KONTOR_PHONE_TYPE_PREMIUM_RATE;
    case PhoneNumberUtil::SHARED_COST: return KONTOR_PHONE_TYPE_SHARED_COST;
    case PhoneNumberUtil::VOIP: return KONTOR_PHONE_TYPE_VOIP;
    case PhoneNumberUtil::PERSONAL_NUMBER:
      return KONTOR_PHONE_TYPE_PERSONAL_NUMBER;
    case PhoneNumberUtil::PAGER: return KONTOR_PHONE_TYPE_PAGER;
    case PhoneNumberUtil::UAN: return KONTOR_PHONE_TYPE_UAN;
    case PhoneNumberUtil::VOICEMAIL: return KONTOR_PHONE_TYPE_VOICEMAIL;
    case PhoneNumberUtil::UNKNOWN: return KONTOR_PHONE_TYPE_UNKNOWN;
  }
  return KONTOR_PHONE_TYPE_UNKNOWN;
}

int32_t MapPossibility(PhoneNumberUtil::ValidationResult result) {
  switch (result) {
    case PhoneNumberUtil::IS_POSSIBLE: return KONTOR_PHONE_POSSIBLE;
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:
      return KONTOR_PHONE_POSSIBLE_LOCAL_ONLY;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
      return KONTOR_PHONE_IMPOSSIBLE_INVALID_COUNTRY_CODE;
    case PhoneNumberUtil::TOO_SHORT: return KONTOR_PHONE_IMPOSSIBLE_TOO_SHORT;
    case PhoneNumberUtil::INVALID_LENGTH:
      return KONTOR_PHONE_IMPOSSIBLE_INVALID_LENGTH;
    case PhoneNumberUtil::TOO_LONG: return KONTOR_PHONE_IMPOSSIBLE_TOO_LONG;
  }
  return KONTOR_PHONE_IMPOSSIBLE_INVALID_LENGTH;
}

bool MapStyle(int32_t style, PhoneNumberUtil::PhoneNumberFormat* format) {
  switch (style) {
    case KONTOR_PHONE_STYLE_E164: *format = PhoneNumberUtil::E164; return true;
    case KONTOR_PHONE_STYLE_INTERNATIONAL:
      *format = PhoneNumberUtil::INTERNATIONAL;
      return true;
    case KONTOR_PHONE_STYLE_NATIONAL:
      *format = PhoneNumberUtil::NATIONAL;
      return true;
    case KONTOR_PHONE_STYLE_RFC3966:
      *format = PhoneNumberUtil::RFC3966;
      return true;
    default: return false;
  }
}

}  // namespace

extern "C" int32_t kontor_phone_parse(const char* text,
                                      const char* default_region,
                                      kontor_phone_info* info,
                                      char* e164, size_t e164_capacity,
                                      char* extension,
                                      size_t extension_capacity) {
  if (text == nullptr || default_region == nullptr || info == nullptr ||
      e164 == nullptr) {
    return KONTOR_PHONE_ERR_NULL_ARGUMENT;
  }
  ClearInfo(info);
  Clear(e164, e164_capacity);
  Clear(extension, extension_capacity);
  try {
    const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
    PhoneNumber number;
    const int32_t status =
        MapError(util->Parse(std::string(text), std::string(default_region),
                             &number));
    if (status != KONTOR_PHONE_OK) return status;

    std::string formatted;
    // E.164 never carries the extension; Format(E164) ignores it.
    util->Format(number, PhoneNumberUtil::E164, &formatted);
    const int32_t copied = CopyOut(formatted, e164, e164_capacity);
    if (copied != KONTOR_PHONE_OK) return copied;
    if (extension != nullptr && extension_capacity > 0 &&
        number.has_extension()) {
      const int32_t ext = CopyOut(number.extension(), extension,
                                  extension_capacity);
      if (ext != KONTOR_PHONE_OK) {
        Clear(e164, e164_capacity);
        return ext;
      }
    }

    std::string region;
    util->GetRegionCodeForNumber(number, &region);
    if (region.empty() || region.size() >= sizeof(info->region)) {
      region = "ZZ";
    }
    std::memcpy(info->region, region.c_str(), region.size() + 1);
    info->country_code = number.country_code();
    info->possibility = MapPossibility(util->IsPossibleNumberWithReason(number));
    info->is_valid = util->IsValidNumber(number) ? 1 : 0;
    info->type = MapType(util->GetNumberType(number));
    return KONTOR_PHONE_OK;
  } catch (...) {
    ClearInfo(info);
    Clear(e164, e164_capacity);
    Clear(extension, extension_capacity);
    return KONTOR_PHONE_ERR_INTERNAL;
  }
}

extern "C" int32_t kontor_phone_format(const char* text,
                                       const char* default_region,
                                       int32_t style, char* out,
                                       size_t out_capacity) {
  if (text == nullptr || default_region == nullptr || out == nullptr) {
    return KONTOR_PHONE_ERR_NULL_ARGUMENT;
  }
  Clear(out, out_capacity);
  PhoneNumberUtil::PhoneNumberFormat format = PhoneNumberUtil::E164;
  if (!MapStyle(style, &format)) return KONTOR_PHONE_ERR_BAD_STYLE;
  try {
    const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
    PhoneNumber number;
    const int32_t status =
        MapError(util->Parse(std::string(text), std::string(default_region),
                             &number));
    if (status != KONTOR_PHONE_OK) return status;
    std::string formatted;
    util->Format(number, format, &formatted);
    return CopyOut(formatted, out, out_capacity);
  } catch (...) {
    Clear(out, out_capacity);
    return KONTOR_PHONE_ERR_INTERNAL;
  }
}

extern "C" int32_t kontor_phone_country_code_for_region(const char* region) {
  if (region == nullptr) return 0;
  try {
    // GetCountryCodeForRegion logs a warning and returns 0 for unknown codes.
    return PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(
        std::string(region));
  } catch (...) {
    return 0;
  }
}
