describe('app', function(){
  describe('.VERB()', function(){
    it('should only call an error handling routing callback when an error is propagated', function(done){
      var app = express();

      var a = false;
      var b = false;

      app.get('/', function(req, res, next){
        next(new Error('fabricated error'));
      }, function(req, res, next) {
        a = true;
        next();
      }, function(err, req, res, next){
        b = true;
        next(err);
      }, function(req, res){
        a.should.be.false()
        b.should.be.true()
        res.send(204);
      });

      request(app)
      .get('/')
      .expect(204, done);
    })
  })
})
