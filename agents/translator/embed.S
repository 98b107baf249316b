/* The compiled TC program, embedded so the static agent is one file (override: --bpf-object). */
	.section .rodata
	.balign 8
	.global xlate_bpf_obj
	.global xlate_bpf_obj_end
xlate_bpf_obj:
	.incbin XLATE_BPF_OBJ
xlate_bpf_obj_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
