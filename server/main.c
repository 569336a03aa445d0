/* main.c - placeholder entry point (replaced by the real one). */
int main(void);
int main(void) {
    return 0;
}
