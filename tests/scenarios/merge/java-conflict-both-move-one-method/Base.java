package shop;

class Numbers {
    int alpha() {
        return 1;
    }

    int beta() {
        return 2;
    }

    int gamma() {
        return 3;
    }

    int delta() {
        return 4;
    }

    int epsilon() {
        return 5;
    }

    int zeta() {
        return 6;
    }
}
