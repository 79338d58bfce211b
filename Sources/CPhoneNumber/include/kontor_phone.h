#ifndef KONTOR_PHONE_H
#define KONTOR_PHONE_H
#ifdef __cplusplus
extern "C" {
#endif
int kontor_phone_placeholder(void);
#ifdef __cplusplus
}
#endif
#endif
