#include "textflag.h"

// func adamwAVX(w, m, v, grad *float32, n int, c *stepCoeffs)
// The AdamW update of apply, four elements at a time in float64 with the
// same operations in the same order (no FMA), so results are bitwise
// those of the scalar loop. n must be a multiple of 4.
TEXT ·adamwAVX(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ grad+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSD 0(AX), Y8
	VBROADCASTSD 8(AX), Y9
	VBROADCASTSD 16(AX), Y10
	VBROADCASTSD 24(AX), Y11
	VBROADCASTSD 32(AX), Y12
	VBROADCASTSD 40(AX), Y13
	VBROADCASTSD 48(AX), Y14
	VBROADCASTSD 56(AX), Y15

loop4:
	CMPQ CX, $4
	JL   done
	VCVTPS2PD (BX), Y0
	VCVTPS2PD (SI), Y1
	VMULPD Y8, Y1, Y1
	VMULPD Y9, Y0, Y2
	VADDPD Y2, Y1, Y1
	VCVTPD2PSY Y1, X3
	VMOVUPS X3, (SI)
	VCVTPS2PD (DX), Y4
	VMULPD Y10, Y4, Y4
	VMULPD Y11, Y0, Y5
	VMULPD Y0, Y5, Y5
	VADDPD Y5, Y4, Y4
	VCVTPD2PSY Y4, X3
	VMOVUPS X3, (DX)
	VSQRTPD Y4, Y4
	VDIVPD Y14, Y4, Y4
	VADDPD Y15, Y4, Y4
	VMULPD Y13, Y1, Y1
	VDIVPD Y4, Y1, Y1
	VCVTPS2PD (DI), Y6
	VMULPD Y12, Y6, Y6
	VSUBPD Y1, Y6, Y6
	VCVTPD2PSY Y6, X3
	VMOVUPS X3, (DI)
	ADDQ $16, DI
	ADDQ $16, SI
	ADDQ $16, DX
	ADDQ $16, BX
	SUBQ $4, CX
	JMP  loop4

done:
	VZEROUPPER
	RET
