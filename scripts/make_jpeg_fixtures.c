// Developer tool: writes the synthetic JPEG fixture of Tests/ImagingTests/Fixtures that the
// decoder must refuse: a valid progressive JPEG of a 64x64 grey ramp in 704 scans (DC and every
// AC coefficient on its own, each refined bit by bit from point transform 10, libjpeg's most for
// 8 bits), where real films use about ten. cjpeg caps scan scripts at 100, so this calls libjpeg
// itself. Not run by the tests.
//   cc scripts/make_jpeg_fixtures.c -ljpeg -o /tmp/make_jpeg_fixtures && /tmp/make_jpeg_fixtures Tests/ImagingTests/Fixtures
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]); return 2; }
    char path[4096];
    snprintf(path, sizeof path, "%s/scans704.jpg", argv[1]);
    FILE *file = fopen(path, "wb");
    if (!file) { perror(path); return 1; }

    enum { side = 64, refinements = 10, bands = 64, count = bands * (refinements + 1) };
    static jpeg_scan_info scans[count];
    int n = 0;
    for (int k = 0; k < bands; k++) {
        scans[n++] = (jpeg_scan_info){.comps_in_scan = 1, .component_index = {0}, .Ss = k, .Se = k, .Ah = 0, .Al = refinements};
        for (int al = refinements - 1; al >= 0; al--) {
            scans[n++] = (jpeg_scan_info){.comps_in_scan = 1, .component_index = {0}, .Ss = k, .Se = k, .Ah = al + 1, .Al = al};
        }
    }

    struct jpeg_compress_struct info;
    struct jpeg_error_mgr errors;
    info.err = jpeg_std_error(&errors);
    jpeg_create_compress(&info);
    jpeg_stdio_dest(&info, file);
    info.image_width = side;
    info.image_height = side;
    info.input_components = 1;
    info.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&info);
    info.scan_info = scans;
    info.num_scans = n;
    jpeg_start_compress(&info, TRUE);
    JSAMPLE row[side];
    for (int x = 0; x < side; x++) row[x] = (JSAMPLE)(x * 4);
    while (info.next_scanline < info.image_height) {
        JSAMPROW rows[1] = {row};
        jpeg_write_scanlines(&info, rows, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    fclose(file);
    printf("wrote %s (%d scans)\n", path, n);
    return 0;
}
